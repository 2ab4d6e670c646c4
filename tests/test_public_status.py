"""A permit's public status and reason come from the domain's own tables, for every event."""

from __future__ import annotations

from eventsourcing.domain import DomainEvent
from hypothesis.stateful import invariant

from domain.permit import (
    STANDING_AFTER,
    STATE_AFTER,
    WORDING,
    Permit,
    public_reason,
    public_standing,
    public_status,
)
from domain.status import PermitStatus
from tests.test_stateful import RUN, PermitLifecycle


def test_every_permit_event_has_a_state_and_a_wording() -> None:
    events = {
        value.__name__
        for value in vars(Permit).values()
        if isinstance(value, type)
        and issubclass(value, DomainEvent)
        and value not in (Permit.Event, Permit.Created)
    }
    assert "CommitmentFalse" in events
    assert set(STATE_AFTER) == events
    assert set(WORDING) == events
    assert set(STANDING_AFTER) == events


class PermitWording(PermitLifecycle):
    """The lifecycle machine again, reading each event as the read model does."""

    @invariant()
    def the_last_event_words_the_permit_as_the_aggregate_does(self) -> None:
        last = self.events[-1]
        assert public_status(last) is self.permit.status
        assert public_reason(last) == self.permit.reason
        # A standing names the act behind the status: in force exactly when the status is 有效.
        assert public_standing(last).in_force == (self.permit.status is PermitStatus.VALID)


TestPermitWording = PermitWording.TestCase
TestPermitWording.settings = RUN
