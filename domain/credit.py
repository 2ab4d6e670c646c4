"""A business's credit record: listings on the credit lists, with objection and repair."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor, Role
from domain.errors import Conflict, Forbidden, NotFound
from domain.payloads import ActiveListing, Listing

# The lists of the seeds (003:531, 000:729) and what a listing bars the business from.
LISTS = {
    "abnormal_operations": ("经营异常名录", "abnormal operations list"),
    "serious_dishonesty": ("严重违法失信名单", "serious illegality and dishonesty list"),
    "commitment_blacklist": ("承诺履行黑名单", "commitment blacklist"),
}
ACTIVE = "active"
OBJECTED = "objected"  # an objection is pending; the listing still applies meanwhile
REMOVED = "removed"


class CreditRecord(Aggregate):
    """One per business, keyed by its USCC; opened on its first listing."""

    @staticmethod
    def create_id(uscc: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/credit/{uscc}")

    class Opened(Aggregate.Created):
        uscc: str

    @event(Opened)
    def __init__(self, *, uscc: str) -> None:
        self.uscc = uscc
        self.listings: dict[str, Listing] = {}

    def active_listings(self) -> list[ActiveListing]:
        return [{**v, "id": k} for k, v in self.listings.items() if v["state"] != REMOVED]

    def list(
        self, *, actor: Actor, list_code: str, grounds: str, legal_basis: str, on: date
    ) -> str:
        if actor.role not in (Role.CREDIT, Role.DEPARTMENT):
            msg = "only the credit office or a deciding department may list a business"
            raise Forbidden(msg)
        if list_code not in LISTS:
            msg = f"unknown credit list {list_code!r}"
            raise NotFound(msg)
        if any(v["list"] == list_code and v["state"] != REMOVED for v in self.listings.values()):
            msg = f"{self.uscc} is already on the {LISTS[list_code][1]}"
            raise Conflict(msg)
        listing_id = f"L{len(self.listings) + 1}"
        self._listed(
            actor=actor,
            listing_id=listing_id,
            list_code=list_code,
            grounds=grounds,
            legal_basis=legal_basis,
            on=on,
        )
        return listing_id

    class Listed(Aggregate.Event):
        actor: Actor
        listing_id: str
        list_code: str
        grounds: str
        legal_basis: str
        on: date

    @event(Listed)
    def _listed(
        self,
        *,
        actor: Actor,
        listing_id: str,
        list_code: str,
        grounds: str,
        legal_basis: str,
        on: date,
    ) -> None:
        self.listings = {
            **self.listings,
            listing_id: {
                "list": list_code,
                "grounds": grounds,
                "legal_basis": legal_basis,
                "listed_on": on.isoformat(),
                "state": ACTIVE,
            },
        }

    def _listing(self, listing_id: str) -> Listing:
        try:
            return self.listings[listing_id]
        except KeyError:
            msg = f"{self.uscc} has no listing {listing_id}"
            raise NotFound(msg) from None

    def object(self, *, actor: Actor, listing_id: str, grounds: str) -> None:
        """异议: the business objects; the credit office decides it."""
        if self._listing(listing_id)["state"] != ACTIVE:
            msg = f"listing {listing_id} is {self._listing(listing_id)['state']}"
            raise Conflict(msg)
        self._objected(actor=actor, listing_id=listing_id, grounds=grounds)

    class Objected(Aggregate.Event):
        actor: Actor
        listing_id: str
        grounds: str

    @event(Objected)
    def _objected(self, *, actor: Actor, listing_id: str, grounds: str) -> None:
        self._set(listing_id, OBJECTED)

    def decide_objection(self, *, actor: Actor, listing_id: str, upheld: bool, reason: str) -> None:
        self._check_office(actor)
        if self._listing(listing_id)["state"] != OBJECTED:
            msg = f"listing {listing_id} has no pending objection"
            raise Conflict(msg)
        self._objection_decided(actor=actor, listing_id=listing_id, upheld=upheld, reason=reason)

    class ObjectionDecided(Aggregate.Event):
        actor: Actor
        listing_id: str
        upheld: bool
        reason: str

    @event(ObjectionDecided)
    def _objection_decided(
        self, *, actor: Actor, listing_id: str, upheld: bool, reason: str
    ) -> None:
        self._set(listing_id, REMOVED if upheld else ACTIVE)

    def remove(self, *, actor: Actor, listing_id: str, reason: str, repaired: bool) -> None:
        """信用修复 (repaired), or removal decided by the credit office (the end of a
        listing period is `expire`, the daily job's)."""
        self._check_office(actor)
        if self._listing(listing_id)["state"] == REMOVED:
            msg = f"listing {listing_id} is already removed"
            raise Conflict(msg)
        self._removed(actor=actor, listing_id=listing_id, reason=reason, repaired=repaired)

    class Removed(Aggregate.Event):
        actor: Actor
        listing_id: str
        reason: str
        repaired: bool

    @event(Removed)
    def _removed(self, *, actor: Actor, listing_id: str, reason: str, repaired: bool) -> None:
        self._set(listing_id, REMOVED)

    def expire(self, *, actor: Actor, listing_id: str, on: date, reason: str) -> None:
        """移出 at the end of the listing period: the daily job does it, not a person."""
        if actor.role != Role.SYSTEM:
            msg = "a listing period ends by the daily job"
            raise Forbidden(msg)
        if self._listing(listing_id)["state"] == REMOVED:
            msg = f"listing {listing_id} is already removed"
            raise Conflict(msg)
        self._expired(actor=actor, listing_id=listing_id, on=on, reason=reason)

    class Expired(Aggregate.Event):
        actor: Actor
        listing_id: str
        on: date
        reason: str

    @event(Expired)
    def _expired(self, *, actor: Actor, listing_id: str, on: date, reason: str) -> None:
        self._set(listing_id, REMOVED)

    def _set(self, listing_id: str, state: str) -> None:
        self.listings = {**self.listings, listing_id: {**self.listings[listing_id], "state": state}}

    @staticmethod
    def _check_office(actor: Actor) -> None:
        if actor.role != Role.CREDIT:
            msg = "only the credit office decides objections and removals"
            raise Forbidden(msg)
