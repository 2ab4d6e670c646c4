"""The published contract holds under fuzzing: schemathesis generates requests for every
operation of /openapi.json — valid ones and invalid ones, with made-up ids and with the ids of
a real world (tests/world.py) — and sends each as a clerk, a department and an anonymous
caller. No answer is a 5xx; each has a documented status, media type, headers and schema;
every 4xx is a problem document (a scan page may answer a browser with HTML).

Bounded: a fixed number of examples per operation, derandomized (the same requests every
run), no shrinking (each failure is recorded as found, named by operation and caller)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.python import asgi

from api.app import create_app
from domain.actor import Actor
from licensing.runtime import Runtime
from licensing.settings import Settings
from tests.world import DISTRICT, World, bearer, build_world

# Examples per operation (each sent as three callers): enough to reach every documented
# answer class, few enough for CI (PostgreSQL's calls cost more; the generation is the same).
EXAMPLES = {"sqlite": 4, "postgres": 2}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]
SCAN_PAGES = ("/v/", "/s/")


def _wants_json(accept: str) -> bool:
    """As the scan page reads Accept (api.public): JSON only when preferred to HTML."""
    if "application/json" not in accept:
        return False
    return "text/html" not in accept or accept.index("application/json") < accept.index("text/html")


def _problem_document_failure(case: Case, response: Response, sent: dict[str, str]) -> str | None:
    """Why a 4xx is not a problem document, or None."""
    if not 400 <= response.status_code < 500:
        return None
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
    accept = {k.lower(): v for k, v in sent.items()}.get("accept", "")
    if media_type == "text/html" and case.path.startswith(SCAN_PAGES) and not _wants_json(accept):
        return None  # a browser scanning a refused code gets a page
    if media_type != "application/problem+json":
        return f"{response.status_code} answered as {media_type or 'nothing'}"
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{response.status_code}: the problem document is not JSON"
    missing = {"type", "title", "status", "detail"} - set(body)
    if missing or body.get("status") != response.status_code:
        return f"{response.status_code}: not a problem document ({sorted(missing)} missing)"
    return None


def _summary(error: BaseException) -> str:
    """The failures schemathesis found, without the stack: check, status, reproduction."""
    noise = ("Schemathesis found", "sub-exception")
    lines = [line for line in str(error).splitlines() if line.strip()]
    return "\n    ".join(line for line in lines if not any(n in line for n in noise))[:1500]


@pytest.fixture
def fuzzed_runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    try:
        yield rt
    finally:
        asgi.shutdown_lifespans()
        rt.close()


def test_the_contract_holds_for_every_operation_and_caller(
    fuzzed_runtime: Runtime, settings: Settings
) -> None:
    rt = fuzzed_runtime
    app = create_app(rt)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    with asgi.get_client(app) as client:
        world = build_world(client, rt)
    callers = {
        "clerk": bearer(rt, Actor(id="fuzz-clerk", role="clerk", district=DISTRICT)),
        "department fire": bearer(rt, Actor(id="fuzz-fire", role="department", department="fire")),
        "anonymous": {},
    }
    failures: dict[tuple[str, str, str], str] = {}
    examples = EXAMPLES[settings.store]
    sent = 0

    for result in schema.get_all_operations():
        operation = result.ok()  # a broken operation in the document fails here, named
        sent += _fuzz(operation, world, callers, examples, failures)

    assert sent >= examples * 3, f"only {sent} requests sent"
    assert not failures, f"{len(failures)} contract failure(s), by operation and caller:\n" + (
        "\n".join(f"- {op} as {caller}: {detail}" for (op, caller, _), detail in failures.items())
    )


def _fuzz(
    operation: Any,
    world: World,
    callers: dict[str, dict[str, str]],
    examples: int,
    failures: dict[tuple[str, str, str], str],
) -> int:
    """Send `examples` generated requests of one operation as every caller; record failures
    (the first of each kind per operation and caller). Returns the requests sent."""
    real = world.path_parameters(operation.path)
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if real:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
    count = 0

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def send(case: Case) -> None:
        nonlocal count
        for caller, headers in callers.items():
            count += 1
            response = case.call(headers=headers)
            where = (operation.label, caller)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as error:
                detail = _summary(error)
                failures.setdefault((*where, detail[:120]), detail)
            sent = {**(case.headers or {}), **headers}
            problem = _problem_document_failure(case, response, sent)
            if problem:
                failures.setdefault((*where, "problem"), problem)

    send()
    return count
