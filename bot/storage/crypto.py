"""Encryption at rest for what families say, and blind indexes to find an address without storing it."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DataCipher:
    """Encrypts family content with the newest key and reads anything written with an older one."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one DATA_KEY is needed")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        # Derived (never the cipher key itself), and from the oldest key so that adding a newer key
        # in front for rotation does not change the index of addresses already stored.
        self._index_key = hashlib.sha256(b"dhrbot-blind-index:" + keys[-1].encode()).digest()

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext safe to store in a text column."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The original text; raises if the data was tampered with or the key is unknown."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored data could not be decrypted with the configured DATA_KEY") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt with the newest key."""
        return self._fernet.rotate(token.encode()).decode()

    def blind_index(self, value: str) -> str:
        """A keyed hash to look a value up by, without storing the value in clear."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


_cipher: DataCipher | None = None


def configure_cipher(keys: list[str]) -> DataCipher:
    """Set the process-wide cipher used by encrypted columns."""
    global _cipher
    _cipher = DataCipher(keys)
    return _cipher


def cipher() -> DataCipher:
    """The process-wide cipher; storage is unusable until it is configured."""
    if _cipher is None:
        raise RuntimeError("encryption is not configured: call bot.storage.db.init_storage first")
    return _cipher
