"""Assembles one running system from settings: event store, read model, projector, keys."""

from __future__ import annotations

import logging
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, MapperDeserialisationError
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from domain.actor import Actor, Role
from domain.errors import Conflict, NotFound
from licensing import locks
from licensing.calendar import WorkingCalendar
from licensing.catalogue import Catalogue, default_catalogue
from licensing.cipher import CipherKeyError, check_store, resolve_keys
from licensing.delivery import Channel, EmailSender, SmsGateway
from licensing.documents import open_document_store
from licensing.keys import open_key_ring
from licensing.metrics import StoreCollector
from licensing.outbox import Outbox
from licensing.persistence import eventsourcing_env
from licensing.progress import ProgressCodes
from licensing.settings import Settings
from licensing.signing import mint_pointer
from licensing.snapshots import SNAPSHOT_PATH
from licensing.store import EventStore
from licensing.unit_of_work import Licensing
from licensing.webhooks import WebhookOutbox, WebhookRegistry
from projections.errors import describe
from projections.freshness import Freshness, Lag
from projections.history import licence_as_of
from projections.projector import Projector
from projections.readmodel import NAME as READ_MODEL
from projections.readmodel import PostgresReadModel, ReadModel, SQLiteReadModel
from projections.skips import Skip, record_skip, recorded_skips

log = logging.getLogger(__name__)

# What an answer says when it is not the read model's own (the API's X-Read-Model header).
CATCHING_UP = "catching-up; answered from the events"
MAYBE_OUT_OF_DATE = "behind; this licence's events cannot be read, so it may be out of date"


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
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        # Processes starting at once (docker-compose's services) take turns to create the
        # tables and to generate and publish the keys.
        with locks.initialisation(settings):
            cipher = resolve_keys(settings)
            self.env: dict[str, Any] = eventsourcing_env(
                settings, read_model=READ_MODEL, cipher=cipher
            )
            # `app` is the event store (the library's application); `licensing` is what every
            # command runs against: the store with the catalogue, the calendar and the clock.
            self.app = EventStore(env=self.env)
            try:
                check_store(self.app, cipher)
                self.documents = open_document_store(self.app, settings.data_dir)
                self.view = construct_read_model(self.env)
                self.keys = open_key_ring(
                    self.app,
                    settings.keys_dir,
                    new_keys=new_keys,
                    refresh_seconds=settings.keys_refresh_seconds,
                )
                self.auth_secret = settings.auth_secret or load_or_create_secret(
                    settings.data_dir / "auth.secret"
                )
                # 办件查询: the applicants' progress codes are derived from this secret.
                self.progress_codes = ProgressCodes(
                    load_or_create_secret(settings.data_dir / "progress.secret")
                )
            except MapperDeserialisationError as error:
                self._close_stores()
                if isinstance(error.__cause__, CipherKeyError):
                    # An older event under a key not configured (a rotation half done).
                    msg = f"{error.__cause__}: add it to LICENSING_CIPHER_OLD_KEYS"
                    raise CipherKeyError(msg) from None
                raise
            except BaseException:
                self._close_stores()
                raise
        self.licensing = Licensing(
            self.app,
            catalogue=self.catalogue,
            calendar=calendar,
            progress_codes=self.progress_codes,
        )
        self.projector = Projector(self.app, self.view)
        # How far behind the read model is, measured at most once per cache period whoever
        # asks (a probe, a page deciding whether to trust the read model).
        self.freshness = Freshness(self.projector.measure, max_age=settings.freshness_cache_seconds)
        # The gauges /metrics measures when scraped: the worklists' counts and the lag.
        self.gauges = StoreCollector(
            task_counts=lambda: self.view.task_counts(self.licensing.today().isoformat()),
            lag=self.freshness.lag,
            seconds_behind=self.freshness.seconds_behind,
        )
        self._started = False

    def start(self) -> None:
        """Keep the read model current from this process (unless a worker does it)."""
        if self.settings.projector == "inline" and not self._started:
            self.app.listeners.append(self.projector.wake)
            self.projector.start()
            self._started = True

    def settle(self, position: int) -> bool:
        """Wait (bounded) until a command's own change is visible in the read model; not at
        all when projection is stuck before it (it will not be visible until an operator acts)
        or already behind by more than the public bound (the answer then comes from the events)."""
        if position == 0:
            return True  # nothing new was written (an idempotent replay)
        if not self.projector.running:
            stuck = self.freshness.stuck()
            if stuck is not None and stuck.position <= position:
                return False
        if self.freshness.behind_by_more_than(self.settings.public_max_lag_seconds):
            return self.projector.position >= position
        return self.projector.wait_for(position, self.settings.projection_wait_seconds)

    def licence(
        self, uscc: str, *, settled: bool = True
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The live licence as the public may be shown it, and a note when it is not the read
        model's: the read model while it keeps up; the licence's own events replayed (a few
        milliseconds) while projection is stuck or behind by more than the public bound, or
        when a command's change is not projected yet (`settled` false) — so no answer shows a
        status older than the last acknowledged decision. Only when this licence's own events
        cannot be read either is the read model's row given, noted as possibly out of date."""
        bound = self.settings.public_max_lag_seconds
        if settled and not self.freshness.behind_by_more_than(bound):
            return self.view.licence(uscc), None
        try:
            return licence_as_of(self.app, uscc, datetime.now(tz=UTC)), CATCHING_UP
        except NotFound:
            return None, CATCHING_UP
        except Exception as error:  # an event of this very licence the code cannot read
            log.error("licence %s answered from a read model that is behind: %s", uscc, error)
            return self.view.licence(uscc), MAYBE_OUT_OF_DATE

    def skip(self, position: int, *, reason: str, by: str) -> Skip:
        """Record, as an event, that the read model passes over the event at `position`: the
        one where a projector (live or rebuilding) stopped. The projector then moves past
        exactly that position. Refused for any other position: a skip is a way out of a
        stop, not a way to leave out events at will."""
        found = self.app.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            msg = f"no event at position {position}"
            raise NotFound(msg)
        notification = found[0]
        if position in recorded_skips(self.app):
            msg = f"position {position} was skipped already"
            raise Conflict(msg)
        stops = [
            stuck
            for name in (self.projector.name, self.projector.rebuild_name)
            if (stuck := self.view.stuck(name)) is not None
        ]
        error = next((s.error for s in stops if s.position == position), None)
        if error is None:
            try:
                self.app.mapper.to_domain_event(notification)
            except Exception as undecodable:
                error = describe(undecodable)
        if error is None:
            where = ", ".join(str(s.position) for s in stops) or "nowhere"
            msg = (
                f"no projector stopped at position {position} (stopped: {where}); "
                "only an event a projector cannot project may be skipped"
            )
            raise Conflict(msg)
        record_skip(
            self.app,
            actor=Actor(id=by, role=Role.ADMIN),
            position=position,
            topic=notification.topic,
            originator_id=str(notification.originator_id),
            originator_version=notification.originator_version,
            error=error,
            reason=reason,
        )
        self.projector.recheck_now()
        self.freshness.invalidate()
        return recorded_skips(self.app)[position]

    def projection_status(self) -> dict[str, Any]:
        """What `licensing projections status` prints: position, head, lag, where stuck, the
        rebuild under way, every recorded skip. Measured now, not from the cache."""
        lag: Lag = self.projector.measure()
        rebuild = self.view.tracked(self.projector.rebuild_name)
        rebuild_stuck = self.view.stuck(self.projector.rebuild_name)
        return {
            "store": self.settings.store,
            **lag.as_dict(),
            "rebuild": None
            if rebuild is None
            else {
                "position": rebuild,
                "stuck": rebuild_stuck.as_dict() if rebuild_stuck else None,
            },
            "skips": list(recorded_skips(self.app).values()),
        }

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
        return Outbox(self.licensing, channels=channels, progress_codes=self.progress_codes)

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

    def snapshot_url(self, token: str) -> str:
        """What a snapshot code's QR holds: our public origin and the signed snapshot."""
        return f"{self.settings.base_url}{SNAPSHOT_PATH}{token}"

    def close(self) -> None:
        self.projector.stop()
        self._close_stores()

    def _close_stores(self) -> None:
        self.app.close()
        view = getattr(self, "view", None)  # absent if the read model failed to open
        if view is not None:
            view.close_readers()
            view.datastore.close()
