"""The signing keys a store has published: each key's public half and the purpose it signs."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.errors import Conflict, NotFound

# The newest key of a purpose that is not revoked is active: it signs. A rotation publishes
# a newer one, and the one before is retired: it signs nothing more but still verifies, so
# that what it signed (printed codes above all) stays good. A revoked key (compromised)
# verifies nothing: every token it signed is refused.
ACTIVE = "active"
RETIRED = "retired"
REVOKED = "revoked"
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
        newest = max((self.keys[k]["created"] for k in self.kids(purpose)), default=0)
        if created <= newest:
            # The newest key signs; a key older than one published would never be used.
            msg = f"key {kid} is older than the newest {purpose} key already published"
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
        for key in self.keys.values():
            if key["purpose"] == purpose and key["state"] == ACTIVE:
                key["state"] = RETIRED
        self.keys[kid] = {"purpose": purpose, "jwk": jwk, "created": created, "state": ACTIVE}

    def revoke(self, *, kid: str, reason: str, actor: Actor) -> None:
        """Revoke a compromised key: every token it signed is refused from now on. The active
        key of a purpose is revoked only once a newer one is published (rotate first, in the
        same transaction), so that a purpose is never left without a key that signs."""
        if kid not in self.keys:
            msg = f"no key {kid} is published"
            raise NotFound(msg)
        key = self.keys[kid]
        if key["state"] == REVOKED:
            msg = f"key {kid} is already revoked ({key['reason']})"
            raise Conflict(msg)
        if key["state"] == ACTIVE:
            msg = f"key {kid} is the active {key['purpose']} key: publish its successor first"
            raise Conflict(msg)
        self._revoked(kid=kid, reason=reason, actor=actor)

    class KeyRevoked(Aggregate.Event):
        kid: str
        reason: str
        actor: Actor

    @event(KeyRevoked)
    def _revoked(self, *, kid: str, reason: str, actor: Actor) -> None:
        self.keys[kid] = {**self.keys[kid], "state": REVOKED, "reason": reason}

    def state(self, kid: str) -> str:
        """`active`, `retired` or `revoked`."""
        state: str = self.keys[kid]["state"]
        return state

    def revoked(self) -> dict[str, str]:
        """Every revoked key's kid, with the reason it was revoked."""
        return {kid: k["reason"] for kid, k in self.keys.items() if k["state"] == REVOKED}

    def active(self, purpose: str) -> str | None:
        """The kid that signs `purpose`'s tokens (None if it has no key)."""
        kids = [kid for kid in self.kids(purpose) if self.keys[kid]["state"] == ACTIVE]
        return kids[-1] if kids else None

    def kids(self, purpose: str | None = None) -> list[str]:
        """The kids published (for `purpose`, or all), oldest first."""
        return [
            kid
            for kid, key in sorted(self.keys.items(), key=lambda item: item[1]["created"])
            if purpose is None or key["purpose"] == purpose
        ]

    def purposes(self) -> set[str]:
        return {key["purpose"] for key in self.keys.values()}
