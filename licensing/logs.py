"""Log lines: one JSON object a line for machines, or a readable line at a terminal, written
by a thread of their own so that a request never waits for its line to be formatted."""

from __future__ import annotations

import atexit
import logging
import queue
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any, Literal, TextIO

import structlog

Format = Literal["auto", "json", "console"]

# Who writes what (the names operators filter on).
ACCESS_LOG = "licensing.access"  # one line a request (api)
ACTS_LOG = "licensing.acts"  # one line a business act committed (licensing.unit_of_work)

# Fields other formatters add to a record (uvicorn's coloured copy, a handler's rendered
# message), which a line can do without.
_NOISE = ("color_message", "message", "asctime")
# Libraries whose INFO line per call repeats what ours says: httpx names every URL it calls
# (the SMS gateway's, the departments' webhooks').
_TALKATIVE = ("httpx", "httpcore")


class _Handoff(QueueHandler):
    """Hands each record to the writer thread as it is: the base class would format it here,
    in the caller's thread, which is exactly the cost this handler exists to move."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


# The id of the request being answered, set by the API around each request; the thread pool
# that runs a command copies it with the rest of the context.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when the line is written, not when the log was set
    up: a test runner or click's may have swapped it (and closed the one before)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


class _RequestContext(logging.Filter):
    """Puts the current request's id on each record logged while it is answered (the act
    lines of its commands among them), in the caller's thread: the writer thread does not
    share the request's context."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return True


def _when(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The time the line was logged (not the later time the writer thread got to it), first
    on the line, then the level, the logger and the message."""
    record = event.get("_record")
    created = record.created if record is not None else datetime.now(tz=UTC).timestamp()
    first = {
        "time": datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds"),
        "level": event.pop("level", None),
        "logger": event.pop("logger", None),
        "event": event.pop("event", None),
    }
    return {**first, **event}


def _quiet(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in _NOISE:
        event.pop(key, None)
    return event


def formatter(kind: Literal["json", "console"], *, colors: bool = False) -> logging.Formatter:
    """structlog's formatter for standard-library records, every field a record carries
    (`extra=`) included."""
    pre_chain: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _when,
        _quiet,
    ]
    renderer: Any
    if kind == "json":
        tail: list[Any] = [structlog.processors.format_exc_info]
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, sort_keys=False)
    else:
        tail = []
        renderer = structlog.dev.ConsoleRenderer(colors=colors, timestamp_key="time")
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, renderer],
    )


class Logging:
    """The root logger's set-up: a queue in front, a writer thread behind."""

    def __init__(
        self, *, kind: Literal["json", "console"], level: str, stream: TextIO | None
    ) -> None:
        self.kind = kind
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        writer = _StandardError() if stream is None else logging.StreamHandler(stream)
        colors = kind == "console" and _isatty(stream or sys.stderr)
        writer.setFormatter(formatter(kind, colors=colors))
        self.handler = _Handoff(records)
        self.handler.addFilter(_RequestContext())
        self.listener = QueueListener(records, writer, respect_handler_level=False)
        root = logging.getLogger()
        self._level_before = root.level
        # No line shows the caller's file and line, so the logging module need not walk the
        # stack for them at each call (its own documented switch; a fifth of a line's cost).
        self._srcfile_before = logging._srcfile
        logging._srcfile = None
        root.setLevel(level)
        root.addHandler(self.handler)
        for name in _TALKATIVE:
            logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
        self.listener.start()
        self._running = True

    def flush(self) -> None:
        """Write every line logged so far (the writer thread stops and starts again)."""
        self.listener.stop()
        self.listener.start()

    def close(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self._level_before)
        logging._srcfile = self._srcfile_before
        if self._running:  # a second stop() would wait forever
            self._running = False
            self.listener.stop()


_current: Logging | None = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure(
    *, format: Format = "auto", level: str = "INFO", stream: TextIO | None = None
) -> Logging:
    """Send every log record of the process (ours, uvicorn's, the libraries') to `stream`
    (standard error), as JSON lines or, with `auto` at a terminal, readable ones. Called
    again, it replaces the set-up before."""
    global _current  # the process has one logging set-up
    if _current is not None:
        _current.close()
    out = stream if stream is not None else sys.stderr
    kind: Literal["json", "console"] = (
        format if format != "auto" else ("console" if _isatty(out) else "json")
    )
    _current = Logging(kind=kind, level=level, stream=stream)
    return _current


@atexit.register
def reset() -> None:
    """Write what is queued and take the set-up down (at exit; between tests)."""
    global _current
    if _current is not None:
        _current.close()
        _current = None
