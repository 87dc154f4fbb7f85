"""One typed settings object, read from the environment or a `.env` file."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDERS = {"", "changeme", "change-me", "secret", "xxx"}


class Settings(BaseSettings):
    """Everything an operator can set; secrets are required outside development."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    # Addresses of the reverse proxies whose X-Forwarded-Proto/-For headers are believed (TLS ends there);
    # "*" trusts any. Behind one, request URLs (and so cookies) are https as the browser sees them.
    trusted_proxies: str = "127.0.0.1,::1"
    web_workers: int = 1  # `dhrbot serve` web processes; more than one needs PostgreSQL to pay off
    # Off unless asked for: each line would record a family member's IP address and when they wrote.
    access_log: bool = False
    turn_threads: int = 0  # turns one web process answers at once; 0: chosen by resolved_turn_threads
    serve_dispatchers: int = 4  # outbox threads inside `dhrbot serve`; 0 leaves sending to `dhrbot worker`
    secret_key: str = ""
    data_key: str = Field(default="", description="Fernet key(s), comma-separated, newest first")

    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_bot_username: str = ""  # for t.me deep links in invitations
    telegram_api_base_url: str = "https://api.telegram.org"

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_from: str = ""
    twilio_whatsapp_from: str = ""
    twilio_api_base_url: str = ""
    twilio_whatsapp_template_sid: str = ""  # approved "please reply" template (ContentSid) for WhatsApp

    nlu_backend: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""

    urgent_escalation_minutes: int = 10  # an urgent ticket nobody has taken moves on after this
    helplines_file: Path = PROJECT_ROOT / "bot" / "content" / "helplines.yaml"
    helplines_nation: str = ""  # england or wales; empty: the `nation` in the helplines file
    quick_exit_url: str = "https://www.bbc.co.uk/weather"
    default_timezone: str = "Europe/London"

    # Hostile input: the longest message the bot reads (longer ones get a kind reply asking for shorter
    # parts, and only their start is kept), and request bodies refused before they are parsed at all.
    max_message_chars: int = Field(default=4096, gt=0)
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    max_json_depth: int = Field(default=32, gt=0)

    # Invitation (JOIN) and resume (RESUME) codes: how long a resume code lasts, and how many wrong
    # codes are allowed in a window per code, per address and from everyone together before back-off.
    resume_code_days: int = Field(default=30, gt=0)
    code_attempts_window_minutes: int = Field(default=15, gt=0)
    code_attempts_per_address: int = Field(default=5, gt=0)
    code_attempts_per_code: int = Field(default=5, gt=0)
    code_attempts_global: int = Field(default=100, gt=0)

    # Retention (`dhrbot data purge`, also run daily by the timers): a closed case's people are erased
    # this many months after it closed; someone never linked to a case, this many days after they last wrote.
    retention_months_after_close: int = Field(default=12, ge=1)
    unlinked_contact_retention_days: int = Field(default=90, ge=1)

    @model_validator(mode="after")
    def _require_secrets_outside_development(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'dhrbot.sqlite3'}"
        if self.environment != "development":
            for name in ("secret_key", "data_key"):
                if getattr(self, name).strip().lower() in PLACEHOLDERS:
                    raise ValueError(f"{name.upper()} must be set to a real secret outside development")
        if self.environment == "production" and not self.public_base_url.startswith("https://"):
            # Twilio signs what it posts against this address: without it every post would be refused.
            raise ValueError(
                "PUBLIC_BASE_URL must be set in production to the https:// address the service is reached at "
                "(e.g. https://dhr.example.org): Twilio's signatures are checked against it"
            )
        return self

    def resolved_secret_key(self) -> str:
        """The session-signing key; in development a generated one kept under var/."""
        return self.secret_key or _dev_secret(self.var_dir / "secret_key", "SECRET_KEY", _new_token)

    def resolved_turn_threads(self) -> int:
        """Turns one web process answers at once (bot/web/turns.py explains why usually one)."""
        if self.turn_threads > 0:
            return self.turn_threads
        # A turn that waits on a Rasa server leaves the process idle meanwhile: let others run.
        return 8 if self.nlu_backend == "rasa" else 1

    def resolved_data_keys(self) -> list[str]:
        """The data-encryption keys, newest first; in development a generated key under var/."""
        raw = self.data_key or _dev_secret(self.var_dir / "data_key", "DATA_KEY", _new_fernet_key)
        return [k.strip() for k in raw.split(",") if k.strip()]


def _new_token() -> str:
    import secrets

    return secrets.token_hex(32)


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _dev_secret(path: Path, name: str, make: object) -> str:
    """Read or create a development-only secret file, and say loudly that it is one."""
    if path.exists():
        return path.read_text().strip()
    assert callable(make)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = str(make())
    path.write_text(value)
    path.chmod(0o600)
    log.warning("%s is not set: generated a development key in %s (never use this in production)", name, path)
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()  # values come from the environment
