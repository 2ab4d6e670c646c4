"""The `licensing` command: serve, load the demo, run the projector, rebuild, mint tokens."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from domain.actor import ROLES, Actor, Role
from domain.errors import DomainError
from licensing.settings import Settings

if TYPE_CHECKING:
    from licensing.runtime import Runtime


def _runtime(settings: Settings, **options: Any) -> Runtime:
    # Imported late, here and below: `licensing --help` stays fast.
    from licensing.cipher import CipherKeyError
    from licensing.keys import KeysMissing
    from licensing.locks import InitialisationTimeout
    from licensing.runtime import Runtime

    _refuse_memory(settings)
    try:
        return Runtime(settings, **options)
    except (KeysMissing, InitialisationTimeout, CipherKeyError) as error:
        # The operator's next step is in the message; a traceback would only hide it.
        raise click.ClickException(str(error)) from None


def _refuse_memory(settings: Settings) -> None:
    # Every command here serves or changes a store that another process reads later: events
    # kept in this process's memory would be gone when it ends, silently.
    if settings.store == "memory":
        msg = (
            "LICENSING_STORE=memory keeps the events in one process's memory, for tests;"
            " a command run from here would lose them when it ends. Use sqlite or postgres."
        )
        raise click.ClickException(msg)


@click.group()
def main() -> None:
    """证照通: one window, one merged form, parallel decisions, one live signed QR.

    Configuration comes from LICENSING_* environment variables (see README).
    """
    # Whatever this process creates (SQLite files, keys, archives) is its owner's only.
    os.umask(0o077)
    from licensing import logs
    from licensing.metrics import multiprocess_problem

    settings = Settings()
    logs.configure(format=settings.log_format, level=settings.log_level)
    problem = multiprocess_problem()
    if problem:
        raise click.ClickException(problem)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="load the demo hotel and restaurant first")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="API processes; with more than one, this process runs the projector (once) and "
    "the workers run with LICENSING_PROJECTOR=off",
)
def serve(host: str, port: int, demo: bool, workers: int) -> None:
    """Run the API (and, unless LICENSING_PROJECTOR=off, the projector) in this process, or
    in several worker processes beside one projector."""
    import uvicorn

    if "LICENSING_BASE_URL" not in os.environ:
        os.environ["LICENSING_BASE_URL"] = f"http://{host}:{port}"
    problem = origin_problem(os.environ["LICENSING_BASE_URL"])
    if problem and not demo:
        click.secho(
            f"WARNING: LICENSING_BASE_URL={os.environ['LICENSING_BASE_URL']} {problem}: every"
            " QR code printed now holds it, and a phone that scans one cannot open it. Set it"
            " to the public https origin phones reach (see README, The QR code).",
            err=True,
            fg="yellow",
        )
    # Opened here first, so that a refusal to start (keys missing from the data folder) ends
    # the command with its message instead of a traceback from inside the server.
    rt = _runtime(Settings())
    try:
        if demo:
            _load_demo(rt)
    finally:
        rt.close()
    click.echo(f"Serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    projector = None
    if workers > 1 and Settings().projector == "inline":
        # One projector for all the workers, here in the supervising process: N projectors
        # on one read model would be safe (the tracking position refuses a batch twice) but
        # would race for every batch.
        projector = _runtime(Settings())
        projector.start()
        os.environ["LICENSING_PROJECTOR"] = "off"  # the workers inherit it
    try:
        # The app by name, so that `licensing` never imports the API that stands above it.
        uvicorn.run(
            "api.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            # Our log, not uvicorn's: its set-up is left alone, and its bare access line
            # gives way to the API's own (request id, route template, status, duration, role).
            log_config=None,
            access_log=False,
            # The app reads X-Forwarded-For itself, from LICENSING_TRUSTED_PROXIES only.
            proxy_headers=False,
            workers=workers,
            # A worker is killed when it does not answer the supervisor's ping in time; on a
            # busy machine importing the app alone takes longer than uvicorn's 5 s.
            timeout_worker_healthcheck=60,
        )
    finally:
        if projector is not None:
            projector.close()


def origin_problem(base_url: str) -> str | None:
    """Why a QR origin would fail a phone, or None: loopback, not https, or no host."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if not host:
        return "has no host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address and address.is_loopback):
        return "is a loopback address"
    if address and address.is_unspecified:
        return "is the unspecified address"
    if parts.scheme != "https":
        return "is not https"
    return None


def _load_demo(rt: Runtime) -> None:
    from licensing import demo

    usccs = demo.load(rt.licensing)
    rt.projector.catch_up()
    base = rt.settings.base_url
    click.echo("\nDemo data loaded. Look here:")
    for uscc in usccs:
        row = rt.view.licence(uscc)
        assert row is not None
        click.echo(f"  {row['name']}  ({uscc})")
        click.echo(f"    licence JSON : {base}/api/v1/licences/{uscc}")
        click.echo(f"    QR (PNG)     : {base}/api/v1/licences/{uscc}/qr.png")
        click.echo(f"    scan target  : {rt.verification_url(uscc, row['print_version'])}")
    click.echo("")


@main.command()
@click.option(
    "--new-keys",
    is_flag=True,
    help="only for a store that holds events but whose keys were never published and are"
    " lost: generate and publish new ones (every code printed before must be reprinted)",
)
def init(new_keys: bool) -> None:
    """Create the store's tables, the signing keys and (unless LICENSING_CIPHER_KEY or its
    file gives one) the cipher key, once: run it before the services start (docker-compose's
    `init`). Running it again changes nothing."""
    from licensing.signing import PURPOSES

    settings = Settings()
    rt = _runtime(settings, new_keys=new_keys)
    try:
        where = settings.postgres_schema if settings.store == "postgres" else settings.data_dir
        click.echo(f"Store ready ({settings.store}: {where}); keys in {settings.keys_dir}")
        for purpose in PURPOSES:
            click.echo(f"  {purpose} key: {rt.keys.current_kid(purpose)}")
    finally:
        rt.close()


def _passphrase_options(command: Any) -> Any:
    command = click.option(
        "--passphrase-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="read the passphrase from this file (its first line)",
    )(command)
    return click.option(
        "--passphrase",
        envvar="LICENSING_BACKUP_PASSPHRASE",
        help="the passphrase itself; prefer LICENSING_BACKUP_PASSPHRASE or --passphrase-file,"
        " which other users cannot read in the process list",
    )(command)


def _passphrase(passphrase: str | None, passphrase_file: Path | None) -> str:
    if passphrase_file is not None:
        lines = passphrase_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if passphrase:
        return passphrase
    raise click.UsageError(
        "a passphrase is needed: --passphrase-file, LICENSING_BACKUP_PASSPHRASE or --passphrase"
    )


@main.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@_passphrase_options
def backup(archive: Path, passphrase: str | None, passphrase_file: Path | None) -> None:
    """Write every stored event, the signing keys (private keys encrypted under the
    passphrase) and a manifest to ARCHIVE, a new .tar.gz file. The server may keep running."""
    from licensing import backup as backups

    secret = _passphrase(passphrase, passphrase_file)
    rt = _runtime(Settings())
    try:
        summary = backups.backup(rt, archive, secret)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        rt.close()
    click.echo(
        f"Backed up {summary.events} events (to position {summary.last_position}),"
        f" {summary.licences} licences and {len(summary.keys)} signing keys to {archive}"
    )


@main.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@_passphrase_options
def restore(archive: Path, passphrase: str | None, passphrase_file: Path | None) -> None:
    """Load ARCHIVE into an empty store and an empty data folder, rebuild the read model and
    check every licence against the backup. Start the services afterwards."""
    from licensing import backup as backups

    settings = Settings()
    _refuse_memory(settings)
    secret = _passphrase(passphrase, passphrase_file)
    try:
        summary = backups.restore(settings, archive, secret)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {summary.events} events (to position {summary.last_position}) and"
        f" {len(summary.keys)} signing keys; all {summary.licences} licences match the backup"
    )


@main.command("demo")
def demo_command() -> None:
    """Load the demo data into the configured store and print where to look."""
    rt = _runtime(Settings())
    _load_demo(rt)
    rt.close()


@main.command()
def project() -> None:
    """Run the projector alone (the worker beside an API started with LICENSING_PROJECTOR=off)."""
    rt = _runtime(Settings())
    signal.signal(signal.SIGTERM, lambda *_: rt.projector.stop())
    click.echo(f"Projecting from position {rt.projector.position}; Ctrl-C to stop")
    try:
        rt.projector.run()
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()


@main.group()
def projections() -> None:
    """Operate the read model."""


@projections.command()
@click.option("--afresh", is_flag=True, help="start over instead of continuing an interrupted run")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
def rebuild(afresh: bool, batch_size: int) -> None:
    """Rebuild the read model from the first event, beside the live one (readers keep seeing
    the live view), a batch per transaction, and switch to it in one transaction once caught
    up. Interrupted, a second run continues where the first got to."""
    import time

    from projections.errors import Poison

    rt = _runtime(Settings())
    rt.projector.batch_size = batch_size
    bar: Any = None
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # the total is known once the rebuild knows where it starts
            bar = click.progressbar(
                length=total,
                label="Rebuilding",
                show_pos=True,
                show_eta=True,
                item_show_func=lambda rate: rate,
            ).__enter__()
        bar.length = total
        rate = done / max(time.monotonic() - started, 1e-6)
        bar.update(done - bar.pos, current_item=f"{rate:,.0f} events/s")

    try:
        resumed = rt.view.tracked(rt.projector.rebuild_name)
        if resumed and not afresh:
            click.echo(f"Continuing the interrupted rebuild from position {resumed}")
        count = rt.projector.rebuild(afresh=afresh, progress=progress)
        position = rt.projector.position
    except Poison as poison:
        raise click.ClickException(
            f"{poison}\nThe rebuild stopped there; the live read model is untouched. Fix the "
            f"code, or record a skip: licensing projections skip {poison.position} --reason '...'"
        ) from None
    except KeyboardInterrupt:
        reached = rt.view.tracked(rt.projector.rebuild_name)
        raise click.ClickException(
            f"interrupted at position {reached}; run again to continue"
        ) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        rt.close()
    elapsed = time.monotonic() - started
    click.echo(
        f"Rebuilt the read model from {count} events in {elapsed:.1f} s "
        f"({count / max(elapsed, 1e-6):,.0f} events/s); switched to the new tables at "
        f"position {position}"
    )


@projections.command()
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
@click.option(
    "--check",
    is_flag=True,
    help="exit with status 1 when projection is stuck or further behind than"
    " LICENSING_READY_MAX_LAG_SECONDS (docker-compose's health check of the worker)",
)
def status(as_json: bool, check: bool) -> None:
    """Where projection is: position, head of the log, lag in events and seconds, where it
    is stuck, a rebuild under way, and every recorded skip."""
    settings = Settings()
    rt = _runtime(settings)
    try:
        figures = rt.projection_status()
    finally:
        rt.close()
    _print_status(figures, as_json=as_json)
    if check and (
        figures["stuck"] is not None or figures["lag"]["seconds"] > settings.ready_max_lag_seconds
    ):
        sys.exit(1)


def _print_status(figures: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    lag = figures["lag"]
    click.echo(f"store     {figures['store']}")
    click.echo(
        f"position  {figures['projected']} of {figures['head']}: "
        f"{lag['events']} events, {lag['seconds']:.1f} s behind"
    )
    stuck = figures["stuck"]
    if stuck is None:
        click.echo("stuck     no")
    else:
        click.echo(
            f"stuck     YES, at position {stuck['position']} since {stuck['since']}: "
            f"{stuck['topic']} (originator {stuck['originator_id']} "
            f"v{stuck['originator_version']}): {stuck['error']}"
        )
    rebuilding = figures["rebuild"]
    if rebuilding is None:
        click.echo("rebuild   none under way")
    else:
        click.echo(f"rebuild   under way, at position {rebuilding['position']}")
        if rebuilding["stuck"]:
            s = rebuilding["stuck"]
            click.echo(f"          stopped at {s['position']}: {s['topic']}: {s['error']}")
    click.echo(f"skips     {len(figures['skips']) or 'none'}")
    for skip in figures["skips"]:
        click.echo(
            f"  {skip['position']}  {skip['at']}  by {skip['actor']['id']}  {skip['topic']} "
            f"(originator {skip['originator_id']} v{skip['originator_version']})"
        )
        click.echo(f"      why: {skip['reason']}")
        click.echo(f"      error: {skip['error']}")


@projections.command()
@click.argument("position", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="why the event may be passed over (recorded)")
@click.option("--by", default=None, help="who records the skip (default: the login name)")
def skip(position: int, reason: str, by: str | None) -> None:
    """Let projection pass over the event at POSITION, where a projector stopped: the skip is
    recorded as an event (who, when, why, which event), and only that position is passed."""
    import getpass

    from domain.errors import DomainError

    rt = _runtime(Settings())
    try:
        recorded = rt.skip(position, reason=reason, by=by or getpass.getuser())
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        rt.close()
    click.echo(
        f"Recorded: position {position} ({recorded['topic']}, originator "
        f"{recorded['originator_id']}) is skipped; projection moves past it at its next look"
    )


@main.command()
@click.option("--loop", is_flag=True, help="keep delivering every --every seconds until stopped")
@click.option("--every", default=30.0, show_default=True, help="seconds between passes")
@click.option(
    "--remind-days",
    default=3,
    show_default=True,
    type=click.IntRange(min=0),
    help="remind of a missing material (容缺) this many working days before its date",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="serve this worker's delivery counters for Prometheus on this port (no token: bind"
    " with --metrics-host where only Prometheus reaches)",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@click.option(
    "--heartbeat",
    type=click.Path(dir_okay=False, path_type=Path),
    help="touch this file after every pass that ends without an error (a health check"
    " reads its age)",
)
def deliver(
    loop: bool,
    every: float,
    remind_days: int,
    metrics_port: int | None,
    metrics_host: str,
    heartbeat: Path | None,
) -> None:
    """电子送达: send decisions, supplement notices (一次性告知) and 容缺 reminders to
    applicants' fixed e-mail and mobile; 推送: push each department's feed entries to its
    webhook (`licensing webhooks add`), in order. Both with retries, every attempt an event."""
    import time

    if metrics_port is not None:
        from licensing import metrics

        metrics.serve(metrics_port, host=metrics_host)
    rt = _runtime(Settings())
    outbox = rt.outbox()
    outbox.remind_days = remind_days
    pushes = rt.webhooks()
    if not outbox.channels and not pushes.registry.all():
        rt.close()
        raise click.UsageError(
            "no channel: set LICENSING_SMTP_HOST and/or LICENSING_SMS_GATEWAY_URL,"
            " or add a department's webhook (licensing webhooks add)"
        )
    try:
        while True:
            if outbox.channels:
                queued = outbox.collect()
                reminders = outbox.remind_due()
                sent = outbox.deliver_due()
                click.echo(
                    f"queued {queued}, delivered {sent}, pending {len(outbox.pending)}; "
                    f"reminders queued {reminders}"
                )
            if pushes.registry.all():
                rt.index()  # the feeds are read-model tables: bring them up to the log
                queued = pushes.collect()
                sent = pushes.deliver_due()
                click.echo(f"webhooks: queued {queued}, delivered {sent}, waiting {pushes.waiting}")
            if heartbeat is not None:
                heartbeat.touch()
            if not loop:
                break
            time.sleep(every)
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()


@main.group()
def webhooks() -> None:
    """Departments' webhooks (推送 / 双告知): each department's feed, pushed and signed.

    URLs are kept in LICENSING_DATA_DIR/webhooks/webhooks.yaml, each secret in
    webhooks/<department>.secret (mode 0600); secrets are never printed or logged."""


@webhooks.command("add")
@click.option("--department", required=True, help="the department's code in the catalogue")
@click.option("--url", required=True, help="where its system receives the entries (https)")
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the shared secret, whsec_ and base64 (`licensing webhooks new-secret FILE`)",
)
@click.option(
    "--from-start",
    is_flag=True,
    help="push every entry of the feed; by default only those of events from now on",
)
@click.option("--replace", is_flag=True, help="change the URL or secret of an existing webhook")
def add_webhook(
    department: str, url: str, secret_file: Path, from_start: bool, replace: bool
) -> None:
    """Push DEPARTMENT's feed entries to URL, signed with the secret in SECRET_FILE."""
    rt = _runtime(Settings())
    try:
        if department not in rt.catalogue.departments:
            raise click.BadParameter(f"no department {department!r}", param_hint="--department")
        since = 0 if from_start else rt.app.recorder.max_notification_id() or 0
        secret = secret_file.read_text(encoding="utf-8")
        try:
            hook = rt.webhook_registry().add(
                department=department, url=url, secret=secret, since=since, replace=replace
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    finally:
        rt.close()
    click.echo(
        f"Webhook of {hook.department}: {hook.url}; entries of events after log position"
        f" {hook.since} are pushed (all of them: GET /api/v1/departments/{department}/feed)"
    )


@webhooks.command("list")
def list_webhooks() -> None:
    """Each department's webhook: URL and from which log position it is pushed (no secrets)."""
    settings = Settings()
    from licensing.webhooks import WebhookRegistry

    for hook in WebhookRegistry(settings.data_dir / "webhooks").all().values():
        click.echo(f"{hook.department}\t{hook.url}\tsince {hook.since}")


@webhooks.command("remove")
@click.option("--department", required=True)
def remove_webhook(department: str) -> None:
    """Stop pushing to DEPARTMENT's webhook and delete its secret; its entries stay in the feed."""
    from licensing.webhooks import WebhookRegistry

    registry = WebhookRegistry(Settings().data_dir / "webhooks")
    if not registry.remove(department):
        raise click.ClickException(f"department {department} has no webhook")
    click.echo(f"Removed the webhook of {department}")


@webhooks.command("new-secret")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def new_webhook_secret(file: Path) -> None:
    """Write a fresh shared secret to FILE (mode 0600), to give the department and to add."""
    from licensing.webhooks import new_secret

    if file.exists():
        raise click.ClickException(f"{file} exists; not overwritten")
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new_secret() + "\n")
    click.echo(f"Wrote a new secret to {file}")


@main.group()
def applications() -> None:
    """Operate on applications."""


@applications.command()
def lapse() -> None:
    """End applications whose promised missing material (容缺) is overdue (run daily)."""
    from licensing import jobs

    rt = _runtime(Settings())
    click.echo(f"Lapsed {len(jobs.lapse_overdue(rt.licensing, rt.index()))} applications")
    rt.close()


@applications.command()
def deem() -> None:
    """Accept what was received and not answered in 5 working days; apply deemed outcomes."""
    from licensing import jobs

    rt = _runtime(Settings())
    click.echo(
        f"Deemed {len(jobs.deem_overdue(rt.licensing, rt.index()))} acceptances and outcomes"
    )
    rt.close()


@main.group()
def credit() -> None:
    """Operate on credit listings."""


@credit.command(name="expire")
def expire_listings() -> None:
    """Move out the listings whose list period is over (移出; run daily)."""
    from licensing import jobs

    rt = _runtime(Settings())
    click.echo(f"Moved out {len(jobs.expire_listings(rt.licensing, rt.index()))} listings")
    rt.close()


@main.command()
def daily() -> None:
    """Every date-driven job at once (safe to repeat; run from cron or the jobs service)."""
    from licensing import jobs

    rt = _runtime(Settings())
    failed = []
    try:
        for line, job in jobs.DAILY:
            try:
                click.echo(line.format(len(job(rt.licensing, rt.index()))))
            except Exception as error:  # one job failing must not keep the others from running
                logging.getLogger(__name__).exception("daily job failed: %s", line)
                failed.append(f"{line.format('?')}: {error}")
    finally:
        rt.close()
    if failed:
        raise click.ClickException("; ".join(failed))


@main.group()
def permits() -> None:
    """Operate on permits."""


@permits.command()
def expire() -> None:
    """Make every permit past its validity 无效 (run daily, e.g. from cron)."""
    rt = _runtime(Settings())
    click.echo(f"Expired {_expire_permits(rt)} permits")
    rt.close()


def _expire_permits(rt: Runtime) -> int:
    from licensing import jobs

    return len(jobs.expire_permits(rt.licensing, rt.index()))


@main.group()
def tokens() -> None:
    """Bearer tokens for the API."""


@tokens.command()
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--sub", "subject", required=True, help="who: a staff id")
@click.option("--department", default=None, help="for role department: its code")
@click.option("--district", default=None, help="for role clerk: the window's district")
@click.option("--ttl", default=8 * 3600, show_default=True, help="seconds")
def mint(role: str, subject: str, department: str | None, district: str | None, ttl: int) -> None:
    """Print a development bearer token signed with the configured secret."""
    from licensing.runtime import load_or_create_secret
    from licensing.signing import mint_access_token

    settings = Settings()
    try:
        actor = Actor(id=subject, role=Role(role), department=department, district=district)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    secret = settings.auth_secret or load_or_create_secret(settings.data_dir / "auth.secret")
    click.echo(mint_access_token(secret, actor, issuer=settings.issuer, ttl=ttl))


@main.group()
def keys() -> None:
    """The signing keys: list, rotate, revoke (see README, Operations)."""


def _operator(by: str) -> Actor:
    return Actor(id=by, role=Role.ADMIN)


_BY = click.option(
    "--by",
    default=lambda: os.environ.get("USER") or "operator",
    show_default="$USER",
    help="who does it (recorded with the event)",
)


@keys.command(name="list")
def list_keys_command() -> None:
    """Every published key: purpose, kid, state (active, retired, revoked), when made."""
    from datetime import UTC, datetime

    from licensing.keys import list_keys

    rt = _runtime(Settings())
    try:
        for key in list_keys(rt.app, rt.keys):
            made = datetime.fromtimestamp(key.created / 1e9, tz=UTC).isoformat(timespec="seconds")
            here = "private key here" if key.private_here else "NO private key in this data folder"
            why = f"  ({key.reason})" if key.reason else ""
            click.echo(f"{key.purpose:9} {key.kid}  {key.state:8} {made}  {here}{why}")
    finally:
        rt.close()


@keys.command()
@click.option("--purpose", type=click.Choice(["pointer", "status", "snapshot"]), required=True)
@_BY
def rotate(purpose: str, by: str) -> None:
    """Publish a new key for PURPOSE: it signs from now on; the one before retires and keeps
    verifying what it signed (printed codes stay good), and stays in the JWKS. Processes
    that share the data folder sign with the new key within LICENSING_KEYS_REFRESH_SECONDS;
    copy the new key file to any that do not."""
    from licensing import locks
    from licensing.keys import rotate_key

    settings = Settings()
    rt = _runtime(settings)
    try:
        with locks.initialisation(settings):
            kid = rotate_key(rt.app, rt.keys, purpose, actor=_operator(by))
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        rt.close()
    click.echo(f"{purpose} key rotated: {kid} signs from now on")


@keys.command()
@click.argument("kid")
@click.option("--reason", required=True, help="why (shown on the page of every code it signed)")
@_BY
def revoke(kid: str, reason: str, by: str) -> None:
    """Revoke a compromised key KID: every token it signed is refused (the scan page says
    so) and it leaves the JWKS. If it is the key that signs its purpose, a new one is
    published with the revocation. Codes printed with a revoked pointer key must be
    reprinted."""
    from licensing import locks
    from licensing.keys import revoke_key

    settings = Settings()
    rt = _runtime(settings)
    try:
        with locks.initialisation(settings):
            successor = revoke_key(rt.app, rt.keys, kid, reason=reason, actor=_operator(by))
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        rt.close()
    click.echo(f"key {kid} revoked" + (f"; {successor} signs in its place" if successor else ""))


@main.command()
def jwks() -> None:
    """Print the public JWKS (what /.well-known/jwks.json serves)."""
    rt = _runtime(Settings())
    try:
        json.dump(rt.keys.jwks(), sys.stdout, indent=2)
    finally:
        rt.close()
    click.echo("")


if __name__ == "__main__":
    main()
