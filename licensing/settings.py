"""Configuration from the environment (LICENSING_*), with embedded-SQLite defaults."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from limits import parse_many
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
    store: Literal["sqlite", "postgres", "memory"] = Field(
        default="sqlite",
        description="sqlite: files in data_dir; postgres: a server; memory: the events in this"
        " process only (for tests: the library's POPO recorder, the read model a SQLite file in"
        " data_dir), gone when it ends — the CLI refuses it",
    )
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
    public_rate_limit: str = Field(
        default="120/minute",
        description="requests each client address may make to the public doors (the scan "
        "pages, the licence lookup, its QR images, the applicant's progress) together, in "
        "the notation of the `limits` library (`120/minute`, `10/second;600/hour`); `off`: "
        "no limit",
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For (and X-Forwarded-Proto) is believed; empty: the peer's address is "
        "the client's and the header is ignored",
    )
    freshness_cache_seconds: float = Field(
        default=1.0,
        description="how long the projection lag's figures are reused before measuring again",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="json: one JSON object a line; console: readable lines; auto: console when"
        " standard error is a terminal, json otherwise",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="the least severe level written (INFO: one line a request)"
    )
    metrics_token: str | None = Field(
        default=None,
        min_length=32,
        description="a bearer token that reads /metrics (Prometheus' scrape credentials); an"
        " admin JWT reads it too",
    )

    document_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="the largest material file (PDF, JPEG, PNG) the window takes, in bytes",
    )

    @field_validator("postgres_schema")
    @classmethod
    def _schema_is_identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
            msg = "must be a lower-case SQL identifier"
            raise ValueError(msg)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("public_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        value = value.strip()
        if value.lower() == "off":
            return "off"
        try:
            parse_many(value)
        except ValueError:
            msg = "must be `off` or limits like `120/minute` or `10/second;600/hour`"
            raise ValueError(msg) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                msg = f"{entry!r} is neither an address nor a network (nor `*`)"
                raise ValueError(msg) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
