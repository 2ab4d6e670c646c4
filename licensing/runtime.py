"""Assembles one running system from settings: event store, read model, projector, keys."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from licensing import locks
from licensing.calendar import WorkingCalendar
from licensing.catalogue import Catalogue, default_catalogue
from licensing.delivery import Channel, EmailSender, SmsGateway
from licensing.keys import open_key_ring
from licensing.outbox import Outbox
from licensing.persistence import eventsourcing_env
from licensing.settings import Settings
from licensing.signing import mint_pointer
from licensing.store import EventStore
from licensing.unit_of_work import Licensing
from licensing.webhooks import WebhookOutbox, WebhookRegistry
from projections.projector import Projector
from projections.readmodel import NAME as READ_MODEL
from projections.readmodel import PostgresReadModel, ReadModel, SQLiteReadModel


def construct_read_model(env: dict[str, str], *, name: str = READ_MODEL) -> ReadModel:
    """The read model named `name` (its PostgreSQL tables are prefixed with it)."""
    factory = InfrastructureFactory.construct(Environment(name, env))
    view_class = PostgresReadModel if isinstance(factory, PostgresFactory) else SQLiteReadModel
    view = factory.tracking_recorder(view_class)
    # The factory owns the datastore; keep it alive as long as the view.
    view._factory = factory  # type: ignore[attr-defined]
    return view  # type: ignore[return-value]


def load_or_create_secret(path: Path) -> str:
    """A random HS256 secret kept beside the data, for development bearer tokens."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    os.replace(tmp, path)
    return secret


class Runtime:
    """One process's view of the system. Keep a reference: the library closes its
    connection pool when the application object is collected."""

    def __init__(
        self, settings: Settings, *, catalogue: Catalogue | None = None, new_keys: bool = False
    ) -> None:
        """Open the store, the read model and the key ring; KeysMissing if the data folder
        lacks keys the store has published (`new_keys`: see `licensing.keys.open_key_ring`)."""
        self.settings = settings
        self.catalogue = catalogue or default_catalogue()
        calendar = WorkingCalendar.load(settings.calendar_overrides)
        self.env: dict[str, Any] = eventsourcing_env(settings, read_model=READ_MODEL)
        # Processes starting at once (docker-compose's services) take turns to create the
        # tables and to generate and publish the keys.
        with locks.initialisation(settings):
            # `app` is the event store (the library's application); `licensing` is what every
            # command runs against: the store with the catalogue, the calendar and the clock.
            self.app = EventStore(env=self.env)
            try:
                self.view = construct_read_model(self.env)
                self.keys = open_key_ring(self.app, settings.keys_dir, new_keys=new_keys)
                self.auth_secret = settings.auth_secret or load_or_create_secret(
                    settings.data_dir / "auth.secret"
                )
            except BaseException:
                self._close_stores()
                raise
        self.licensing = Licensing(self.app, catalogue=self.catalogue, calendar=calendar)
        self.projector = Projector(self.app, self.view)
        self._started = False

    def start(self) -> None:
        """Keep the read model current from this process (unless a worker does it)."""
        if self.settings.projector == "inline" and not self._started:
            self.app.listeners.append(self.projector.wake)
            self.projector.start()
            self._started = True

    def settle(self, position: int) -> bool:
        """Wait (bounded) until a command's own change is visible in the read model."""
        return self.projector.wait_for(position, self.settings.projection_wait_seconds)

    def index(self) -> ReadModel:
        """The read model caught up with the store: where the daily jobs find their work."""
        self.projector.catch_up()
        return self.view

    def outbox(self) -> Outbox:
        """The delivery outbox with the channels the settings configure (maybe none)."""
        s = self.settings
        channels: dict[str, Channel] = {}
        if s.smtp_host:
            channels["email"] = EmailSender(
                host=s.smtp_host,
                port=s.smtp_port,
                sender=s.smtp_sender,
                username=s.smtp_username,
                password=s.smtp_password,
                starttls=s.smtp_starttls,
            )
        if s.sms_gateway_url:
            channels["sms"] = SmsGateway(url=s.sms_gateway_url, token=s.sms_gateway_token)
        return Outbox(self.licensing, channels=channels)

    def webhook_registry(self) -> WebhookRegistry:
        """The departments' webhooks, as the operator registered them in the data folder."""
        return WebhookRegistry(self.settings.data_dir / "webhooks")

    def webhooks(self) -> WebhookOutbox:
        """The push of each department's feed to its webhook; it reads the read model's
        feeds, so catch it up first (`index()`)."""
        return WebhookOutbox(self.licensing, feed=self.view, registry=self.webhook_registry())

    def verification_url(self, uscc: str, print_version: int) -> str:
        """What the printed QR holds: our public origin and a freshly signed pointer."""
        token = mint_pointer(
            self.keys,
            issuer=self.settings.issuer,
            uscc=uscc,
            print_version=print_version,
            issued_at=int(time.time()),
        )
        return f"{self.settings.base_url}/v/{token}"

    def close(self) -> None:
        self.projector.stop()
        self._close_stores()

    def _close_stores(self) -> None:
        self.app.close()
        view = getattr(self, "view", None)  # absent if the read model failed to open
        if view is not None:
            view.close_readers()
            view.datastore.close()
