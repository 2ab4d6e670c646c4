"""The authorization matrix, generated from the published contract: every operation of
/openapi.json × every kind of caller — a clerk of this district and one of another, the
department that owns the world's task and one that does not, the registrar, the credit office,
an admin, and nobody — against the real ids of one world (tests/world.py), with a request
the operation's schema accepts. Only the roles an operation publishes in its security
requirement (the scopes its role check admits) may get a 2xx, a department only for its own
department and permit types, a clerk only on its own district's applications; every refusal is
a 401, 403 (or, for another district's application, 404) problem document and writes nothing
(the event store's last notification id does not move). Operations added later are walked too:
a failure names the operation and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core import NOT_SET
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case

from domain.actor import Actor
from licensing.runtime import Runtime
from tests.world import DEPARTMENT, DISTRICT, World, bearer, build_world

METHODS = ("get", "put", "post", "delete", "patch")
# Parameters that scope an operation to one department's work: only the owner may act there.
DEPARTMENT_SCOPED = ("{department}", "{permit_type}")
# An application is reached only by the clerks of the district it was filed in.
DISTRICT_SCOPED = "{application_id}"
TERMINAL = ("/withdrawal", "/deregistration", "/revocation", "/cancellation")


@dataclass(frozen=True)
class Caller:
    name: str
    actor: Actor | None  # None: no token

    @property
    def role(self) -> str | None:
        return self.actor.role if self.actor else None


CALLERS = [
    Caller("clerk of this district", Actor(id="m-clerk", role="clerk", district=DISTRICT)),
    Caller("clerk of another district", Actor(id="m-clerk-2", role="clerk", district="nanhai")),
    Caller(
        "department owning the task", Actor(id="m-fire", role="department", department=DEPARTMENT)
    ),
    Caller(
        "department not owning it", Actor(id="m-police", role="department", department="police")
    ),
    Caller("registrar", Actor(id="m-registrar", role="registrar")),
    Caller("credit office", Actor(id="m-credit", role="credit")),
    Caller("admin", Actor(id="m-admin", role="admin")),
    Caller("anonymous", None),
]


def _roles(operation: dict[str, Any]) -> set[str]:
    return {
        role
        for requirement in operation.get("security", ())
        for scopes in requirement.values()
        for role in scopes
    }


def _refusal(path: str, operation: dict[str, Any], caller: Caller) -> int | None:
    """The status the contract refuses this caller with, or None where it admits it. A
    public operation admits anyone; a secured one the roles it publishes (nobody: 401;
    another role: 403); of departments only the one whose work the path names (another: 403);
    of clerks, on an application, only those of the district it was filed in (another: 404,
    as the window's rule says — a clerk is not told the number exists elsewhere)."""
    roles = _roles(operation)
    if not roles:
        return None
    if caller.actor is None:
        return 401
    actor = caller.actor
    if actor.role not in roles:
        return 403
    if actor.role == "department" and actor.department != DEPARTMENT:
        return 403 if any(p in path for p in DEPARTMENT_SCOPED) else None
    if actor.role == "clerk" and actor.district != DISTRICT:
        return 404 if DISTRICT_SCOPED in path else None
    return None


def _harmless_first(operation: Any) -> tuple[bool, bool]:
    """Reads, then writes, then the writes that end the world's application or business, so
    that as many operations as possible meet the world alive."""
    ending = operation.path.endswith(TERMINAL)
    return (operation.method.upper() != "GET", ending)


def _a_valid_request(operation: Any, world: World) -> Case:
    """A request the schema accepts, at the world's ids: the first one Hypothesis generates,
    derandomized (the same every run), without shrinking."""
    strategy = operation.as_strategy(
        GenerationMode.POSITIVE, path_parameters=world.path_parameters(operation.path)
    )
    drawn: list[Case] = []

    @settings(
        max_examples=1,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def draw(case: Case) -> None:
        drawn.append(case)

    draw()
    return drawn[0]


def _send(client: httpx.Client, case: Case, path: str, headers: dict[str, str]) -> httpx.Response:
    body = None if case.body is NOT_SET else case.body
    return client.request(
        case.method,
        case.formatted_path,
        params=case.query or None,
        json=body,
        headers=headers,
    )


def test_only_the_published_roles_get_a_2xx_and_refusals_write_nothing(
    server: str, runtime: Runtime
) -> None:
    recorder = runtime.app.recorder
    with httpx.Client(base_url=server, timeout=60) as client:
        world = build_world(client, runtime)
        spec = client.get("/openapi.json").json()
        schema = schemathesis.openapi.from_dict(spec)
        tokens = {c.name: bearer(runtime, c.actor) if c.actor else {} for c in CALLERS}
        wrong: list[str] = []
        calls = succeeded = 0
        operations = sorted((r.ok() for r in schema.get_all_operations()), key=_harmless_first)
        for operation in operations:
            published = spec["paths"][operation.path][operation.method.lower()]
            case = _a_valid_request(operation, world)
            # The callers it refuses first, while the world is as the admitted would find it.
            callers = sorted(CALLERS, key=lambda c: _refusal(operation.path, published, c) is None)
            for caller in callers:
                before = recorder.max_notification_id()
                answer = _send(client, case, operation.path, tokens[caller.name])
                calls += 1
                where = f"{operation.label} as {caller.name}"
                expected = _refusal(operation.path, published, caller)
                if answer.is_success:
                    succeeded += 1
                    if expected is not None:
                        wrong.append(
                            f"{where}: {answer.status_code} for a caller it does not admit"
                        )
                    continue
                if expected is None:
                    role_refused = answer.status_code == 403 and "may not do this" in answer.text
                    if role_refused or (answer.status_code == 401 and caller.actor):
                        wrong.append(
                            f"{where}: refused by role ({answer.status_code}) though admitted"
                        )
                    continue
                # Past the role check, a body the domain refuses (422) may come before the
                # department's or district's reach is looked at: it tells nothing either way.
                scoped = caller.actor is not None and caller.role in _roles(published)
                if answer.status_code != expected and not (scoped and answer.status_code == 422):
                    wrong.append(
                        f"{where}: {answer.status_code}, not {expected}: {answer.text[:200]}"
                    )
                elif answer.headers["content-type"] != "application/problem+json":
                    wrong.append(f"{where}: the refusal is not a problem document")
                if recorder.max_notification_id() != before:
                    wrong.append(f"{where}: refused ({answer.status_code}) yet wrote events")
    assert calls == len(CALLERS) * len(operations)
    assert succeeded, "no call succeeded: the world's ids reach nothing"
    assert not wrong, f"{len(wrong)} wrong answer(s) of {calls} calls:\n" + "\n".join(wrong)
