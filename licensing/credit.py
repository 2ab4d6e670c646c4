"""The credit office: listings with objection and repair, the snapshot an application is
accepted on, and the end of a listing's period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from domain.actor import SYSTEM, Actor
from domain.credit import CreditRecord
from licensing.commands import Commands, Receipt


class CreditOffice(Commands):
    """Credit lists (经营异常名录, 严重违法失信名单, 承诺履行黑名单) kept as events."""

    def credit_listings(self, uscc: str) -> list[dict[str, Any]]:
        record = self._credit_record(uscc)
        return [dict(v, id=k) for k, v in record.listings.items()]

    def _on_credit(self, uscc: str, act: Callable[[CreditRecord], Any]) -> tuple[Receipt, Any]:
        def command() -> tuple[Receipt, Any]:
            record = self._credit_record(uscc)
            result = act(record)
            recordings = self.save(record)
            return Receipt(id=record.id, uscc=uscc, position=recordings[-1].notification.id), result

        return self._retry(command)

    def list_business(
        self, *, uscc: str, actor: Actor, list_code: str, grounds: str, legal_basis: str
    ) -> tuple[Receipt, str]:
        """Returns the receipt and the new listing's id."""
        self.get_registration(uscc)  # only registered businesses are listed
        receipt, listing_id = self._on_credit(
            uscc,
            lambda r: r.list(
                actor=actor,
                list_code=list_code,
                grounds=grounds,
                legal_basis=legal_basis,
                on=self.today(),
            ),
        )
        return receipt, str(listing_id)

    def object_to_listing(
        self, *, uscc: str, listing_id: str, actor: Actor, grounds: str
    ) -> Receipt:
        return self._on_credit(
            uscc, lambda r: r.object(actor=actor, listing_id=listing_id, grounds=grounds)
        )[0]

    def decide_listing_objection(
        self, *, uscc: str, listing_id: str, actor: Actor, upheld: bool, reason: str
    ) -> Receipt:
        return self._on_credit(
            uscc,
            lambda r: r.decide_objection(
                actor=actor, listing_id=listing_id, upheld=upheld, reason=reason
            ),
        )[0]

    def remove_listing(
        self, *, uscc: str, listing_id: str, actor: Actor, reason: str, repaired: bool
    ) -> Receipt:
        return self._on_credit(
            uscc,
            lambda r: r.remove(
                actor=actor, listing_id=listing_id, reason=reason, repaired=repaired
            ),
        )[0]

    def expire_listings(self) -> list[Receipt]:
        """Operator job (daily): move out every listing whose period is over (移出)."""
        today = self.today()

        def expire(record_id: UUID) -> list[Receipt]:
            record: CreditRecord = self.repository.get(record_id)
            receipts = []
            for listing in record.active_listings():
                kind = self.catalogue.credit_lists[listing["list"]]
                ends_on = kind.ends_on(date.fromisoformat(listing["listed_on"]))
                if ends_on is None or ends_on > today:
                    continue
                reason = f"列入期满移出 listing period of {kind.period_years} years ended"
                receipt, _ = self._on_credit(
                    record.uscc,
                    lambda r, listing_id=listing["id"], reason=reason: r.expire(
                        actor=SYSTEM, listing_id=listing_id, on=today, reason=reason
                    ),
                )
                receipts.append(receipt)
            return receipts

        return self._each(CreditRecord.Opened, "expire listings", expire)
