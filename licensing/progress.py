"""办件查询: the applicant's progress code — derived, sent to the mobile, kept only as a hash —
and following an application with its number and that code, without a staff token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from domain.actor import Actor
from domain.bundle import CODE_LOCK, WRONG_CODES_BEFORE_LOCK, BundleApplication
from domain.errors import Forbidden, Locked, NotFound
from licensing.unit_of_work import Licensing, UnitOfWork, command

# Eight characters a person reads off an SMS and types without confusing 0/O or 1/I: 40 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
# The stored hash is slow (scrypt), salted with the application and the code's number: a
# copy of the event log does not give the codes away by trying every one of them.
SCHEME = "scrypt"
N, R, P = 2**13, 8, 1
# Inside the SMS subject as queued (and so in the log): the outbox puts the code in its place
# only when it sends.
PLACEHOLDER = "⟦查询码⟧"
DOCUMENT = ".progress-code."


class WrongCode(Forbidden):
    """The number and the code do not match (or there is no such application, or no code
    yet: the same answer, so that nobody learns which numbers exist); `left`: wrong codes
    still allowed before the lock."""

    def __init__(self, left: int) -> None:
        minutes = int(CODE_LOCK.total_seconds() // 60)
        super().__init__(
            "the application number and the progress code do not match; "
            f"{left} more wrong code(s) lock it for {minutes} minutes"
        )
        self.left = left


def normalise(code: str) -> str:
    """What the applicant typed, as the code is spelt: upper case, no spaces or dashes."""
    return "".join(code.split()).replace("-", "").upper()


class ProgressCodes:
    """Derives each application's code from a secret of the data folder, so that the outbox
    (another process) can send what the command only hashed, and nothing stores the code."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError("the progress-code secret must have at least 32 characters")
        self._key = secret.encode()

    def code(self, application_id: UUID, issue: int) -> str:
        digest = hmac.new(self._key, f"progress:{application_id}:{issue}".encode(), "sha256")
        value = int.from_bytes(digest.digest()[:5])  # 40 bits, 5 bits a character
        return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def hash_code(code: str, application_id: UUID, issue: int) -> str:
    salt = f"zzt-progress:{application_id}:{issue}".encode()
    key = hashlib.scrypt(normalise(code).encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"{SCHEME}${N}${R}${P}${key.hex()}"


def code_matches(application: BundleApplication, code: str) -> bool:
    stored = application.progress_code_hash
    if stored is None or not code:
        return False
    given = hash_code(code, application.id, application.progress_code_issue)
    return hmac.compare_digest(stored, given)


def issue_code(uow: UnitOfWork, application: BundleApplication, *, actor: Actor) -> None:
    """At acceptance: a code for the applicant, if this installation derives codes."""
    codes = uow.licensing.progress_codes
    if codes is None:
        return
    issue = application.progress_code_issue + 1
    code = codes.code(application.id, issue)
    application.issue_progress_code(actor=actor, code_hash=hash_code(code, application.id, issue))


@command
def _refuse(uow: UnitOfWork, *, application_id: UUID, at: datetime) -> BundleApplication:
    application = uow.application(application_id)
    application.refuse_progress_code(at=at)
    return application


def follow(
    licensing: Licensing,
    *,
    application_id: UUID,
    code: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BundleApplication:
    """The application, for the one who holds its code. A wrong code is recorded on the
    application (WrongCode, with the tries left); the last one allowed locks it (Locked, and
    until when), and while it is locked every code is refused, the right one too, and
    nothing is recorded."""
    try:
        application = licensing.application(application_id)
    except NotFound:
        hash_code(code, application_id, 0)  # as long as a wrong code takes: no oracle
        raise WrongCode(WRONG_CODES_BEFORE_LOCK) from None
    if application.progress_code_hash is None:  # not accepted: no code was issued yet
        hash_code(code, application_id, 0)
        raise WrongCode(WRONG_CODES_BEFORE_LOCK)
    at = now()
    locked = application.progress_locked(at)
    if locked is not None:
        raise Locked(f"too many wrong codes; try again after {locked.isoformat()}", locked)
    if code_matches(application, code):
        return application
    _refuse(licensing, application_id=application_id, at=at)
    after = licensing.application(application_id)
    locked = after.progress_locked(at)
    if locked is not None:
        msg = f"a wrong code, the last allowed: locked until {locked.isoformat()}"
        raise Locked(msg, locked)
    raise WrongCode(after.wrong_codes_left(at))
