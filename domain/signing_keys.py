"""The signing keys a store has published: each key's public half and the purpose it signs."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.errors import Conflict

# A published key verifies, and the newest active one of its purpose signs. Retired and
# revoked keys are for the rotation work to come: they are named here so that every key
# already has a state that such events can move.
ACTIVE = "active"
PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


class SigningKeys(Aggregate):
    """One per store, at a fixed id. Its private halves stay in the data folder: the store
    says which keys must be there, so a data folder without them is noticed, never
    silently replaced by new keys."""

    @staticmethod
    def create_id() -> UUID:
        # Fixed, so that two processes publishing a fresh store's first keys at once both
        # write version 1 of the same aggregate: the store refuses the second, whose
        # process then reloads and uses the winner's keys.
        return uuid5(NAMESPACE_URL, "/signing-keys")

    class Opened(Aggregate.Created):
        actor: Actor

    @event(Opened)
    def __init__(self, *, actor: Actor) -> None:
        self.keys: dict[str, dict[str, Any]] = {}  # kid -> purpose, jwk, created, state

    def publish(
        self, *, purpose: str, kid: str, jwk: dict[str, str], created: int, actor: Actor
    ) -> None:
        """Publish a key: from now on it verifies `purpose`'s tokens (and signs them, if newest)."""
        if kid in self.keys:
            msg = f"key {kid} is already published (for {self.keys[kid]['purpose']})"
            raise Conflict(msg)
        missing = [m for m in PUBLIC_MEMBERS if not jwk.get(m)]
        if missing or "d" in jwk:
            # Only the public half belongs in the store; a private member here would be a leak.
            msg = f"key {kid}: a published key has exactly the public members {PUBLIC_MEMBERS}"
            raise Conflict(msg)
        self._published(purpose=purpose, kid=kid, jwk=dict(jwk), created=created, actor=actor)

    class KeyPublished(Aggregate.Event):
        purpose: str
        kid: str
        jwk: dict[str, str]
        created: int  # nanoseconds since the epoch; the newest key of a purpose signs
        actor: Actor

    @event(KeyPublished)
    def _published(
        self, *, purpose: str, kid: str, jwk: dict[str, str], created: int, actor: Actor
    ) -> None:
        self.keys[kid] = {"purpose": purpose, "jwk": jwk, "created": created, "state": ACTIVE}

    def kids(self, purpose: str | None = None) -> list[str]:
        """The kids published (for `purpose`, or all), oldest first."""
        return [
            kid
            for kid, key in sorted(self.keys.items(), key=lambda item: item[1]["created"])
            if purpose is None or key["purpose"] == purpose
        ]

    def purposes(self) -> set[str]:
        return {key["purpose"] for key in self.keys.values()}
