"""One small world of real resources, made through the API, whose ids fill the path parameters
of every operation in the contract's fuzzing and the authorization matrix: a submitted hotel
bundle with its tasks, a credit listing, the scan and snapshot codes of its licence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from domain.actor import Actor
from domain.uscc import make_uscc
from licensing.runtime import Runtime
from licensing.signing import mint_access_token
from tests.conftest import auth
from tests.stories import submission

HOTEL = make_uscc("91440611MA4C0W001")
# The hotel's task of this department and permit type is the one path parameters name.
DEPARTMENT, PERMIT_TYPE = "fire", "fire_safety_check"
DISTRICT = "chancheng"  # of the window the hotel applies at
PARAMETER = re.compile(r"\{(\w+)\}")


class Client(Protocol):
    """Any synchronous HTTP client of the app (httpx, requests, schemathesis's ASGI one)."""

    def get(self, url: str, **kwargs: Any) -> Any: ...

    def post(self, url: str, **kwargs: Any) -> Any: ...


@dataclass
class World:
    """The ids of the world's resources, by path parameter name."""

    values: dict[str, str] = field(default_factory=dict)

    def _value(self, path: str, name: str) -> str | None:
        if name == "token" and path.startswith("/s/"):
            name = "snapshot_token"  # the snapshot scan takes the other kind of code
        return self.values.get(name)

    def path_parameters(self, path: str) -> dict[str, str]:
        """The world's value of each of `path`'s parameters (`{uscc}`, `{application_id}` …);
        a parameter the world has no value for is left out."""
        found = {name: self._value(path, name) for name in PARAMETER.findall(path)}
        return {name: value for name, value in found.items() if value is not None}

    def fill(self, path: str) -> str:
        """`path` with the world's value in every parameter (`x` where it has none)."""
        return PARAMETER.sub(lambda m: self._value(path, m.group(1)) or "x", path)


def bearer(runtime: Runtime, actor: Actor) -> dict[str, str]:
    return auth(mint_access_token(runtime.auth_secret, actor, issuer=runtime.settings.issuer))


def build_world(client: Client, runtime: Runtime) -> World:
    """Submit the hotel (accepted on the spot: a task per permit), list it on a credit list,
    and read its codes; every step through the API, as the window and offices would."""
    clerk = bearer(runtime, Actor(id="world-clerk", role="clerk", district=DISTRICT))
    credit = bearer(runtime, Actor(id="world-credit", role="credit"))
    submitted = client.post(
        "/api/v1/applications",
        json=submission(runtime, "open_hotel", HOTEL, "世界旅馆"),
        headers=clerk,
    )
    assert submitted.status_code == 201, submitted.text
    application = submitted.json()
    assert (DEPARTMENT, PERMIT_TYPE) in {
        (t["department"], t["permit_type"]) for t in application["tasks"]
    }
    listed = client.post(
        f"/api/v1/credit/{HOTEL}/listings",
        json={
            "list": "abnormal_operations",
            "grounds": "未按期公示年报",
            "legal_basis": "条例第八条",
        },
        headers=credit,
    )
    assert listed.status_code == 201, listed.text
    licence = client.get(f"/api/v1/licences/{HOTEL}")
    assert licence.status_code == 200, licence.text
    snapshot = client.get(f"/api/v1/licences/{HOTEL}/snapshot", headers=clerk)
    assert snapshot.status_code == 200, snapshot.text
    return World(
        {
            "application_id": application["id"],
            "uscc": HOTEL,
            "department": DEPARTMENT,
            "permit_type": PERMIT_TYPE,
            "listing_id": listed.json()["listings"][0]["id"],
            "code": "open_hotel",
            "fmt": "png",
            "token": urlsplit(licence.json()["links"]["verification"]).path.rsplit("/", 1)[-1],
            "snapshot_token": urlsplit(snapshot.json()["url"]).path.rsplit("/", 1)[-1],
        }
    )
