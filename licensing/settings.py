"""Configuration from the environment (LICENSING_*), with embedded-SQLite defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Docker and compose mount secrets here: a file `licensing_<setting>` (licensing_auth_secret,
# licensing_cipher_key, licensing_postgres_password …) sets that setting, unless the
# environment does.
SECRETS_DIR = Path("/run/secrets")


class Settings(BaseSettings):
    """Everything an operator may set; nothing here is required for the embedded default."""

    model_config = SettingsConfigDict(
        env_prefix="LICENSING_",
        extra="ignore",
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
    )

    data_dir: Path = Field(
        default=Path("var"), description="SQLite files and signing keys live here"
    )
    store: Literal["sqlite", "postgres"] = "sqlite"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_dbname: str = "licensing"
    postgres_user: str = "postgres"
    postgres_password: str = ""
    postgres_schema: str = "public"
    postgres_pool_size: int = Field(
        default=8,
        ge=1,
        description="connections each of the store and the read model keeps open (as many"
        " again on demand); the server's max_connections is shared by every process",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="public origin printed in QR codes; https in production",
    )
    issuer: str = Field(default="zzt-demo", description="issuer code in every signed token")
    keys_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        description="how often a process looks in the store for signing keys rotated or"
        " revoked by another process (a token naming an unknown kid looks at once)",
    )
    snapshot_ttl_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="how long a snapshot code of the electronic licence verifies",
    )
    auth_secret: str | None = Field(
        default=None, description="HS256 secret for API bearer tokens; generated if unset"
    )
    cipher_key: str | None = Field(
        default=None,
        repr=False,
        description="base64 of the 32-byte key that encrypts every stored event (personal"
        " data at rest); else LICENSING_CIPHER_KEY_FILE, else cipher.key in the data folder",
    )
    cipher_key_file: Path | None = Field(
        default=None, description="a file holding the cipher key (a docker secret, say)"
    )
    cipher_old_keys: str | None = Field(
        default=None,
        repr=False,
        description="earlier cipher keys, comma-separated: they still read, never write",
    )
    cipher_old_keys_file: Path | None = Field(
        default=None, description="a file of earlier cipher keys, one a line"
    )
    projector: Literal["inline", "off"] = Field(
        default="inline",
        description="inline: the API process keeps the read model current; off: a worker does",
    )
    calendar_overrides: Path | None = Field(
        default=None,
        description="YAML of official holiday schedules the calendar library does not know yet",
    )
    smtp_host: str | None = Field(default=None, description="电子送达 by e-mail: SMTP server")
    smtp_port: int = 25
    smtp_sender: str = "证照通 <noreply@localhost>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    sms_gateway_url: str | None = Field(default=None, description="电子送达 by SMS: HTTP gateway")
    sms_gateway_token: str | None = None
    projection_wait_seconds: float = Field(
        default=2.0, description="how long a command waits for its own change to be projected"
    )
    ready_max_lag_seconds: float = Field(
        default=5.0,
        description="/readyz answers 503 when the oldest unprojected event is older than this",
    )
    public_max_lag_seconds: float = Field(
        default=2.0,
        description="a scan, the licence JSON and a command's answer are taken from the events "
        "themselves, not the read model, while projection is stuck or this far behind",
    )
    freshness_cache_seconds: float = Field(
        default=1.0,
        description="how long the projection lag's figures are reused before measuring again",
    )

    @field_validator("postgres_schema")
    @classmethod
    def _schema_is_identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
            msg = "must be a lower-case SQL identifier"
            raise ValueError(msg)
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
