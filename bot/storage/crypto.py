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
        self._newest = Fernet(keys[0].encode())
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        # One index key per data key, derived (never the cipher key itself), newest first. New values
        # are indexed with the newest; look-ups try them all, so that people stay known while
        # `dhrbot data rotate-key` re-indexes what is stored (see docs/data-protection.md).
        self._index_keys = [hashlib.sha256(b"dhrbot-blind-index:" + k.encode()).digest() for k in keys]

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

    def is_current(self, token: str) -> bool:
        """Whether this ciphertext is already under the newest key (nothing to rotate)."""
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def blind_index(self, value: str) -> str:
        """A keyed hash to look a value up by, without storing the value in clear (newest key)."""
        return self.blind_indexes(value)[0]

    def blind_indexes(self, value: str) -> list[str]:
        """The value's keyed hash under every configured key, newest first: what a look-up matches."""
        return [hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for key in self._index_keys]


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
