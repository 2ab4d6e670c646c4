"""The actors' commands called directly, without HTTP: the service layer's stories.

`Service` wraps one `Runtime`. Each act calls the handler the API's route calls (`window`,
`review`, `registrar`, …) as the actor the route's bearer token names, brings the read model up
to date (synchronously: no projector thread, so a story never waits on one), and answers what
the route would answer, composed by the same views and turned into JSON types (dates as ISO
text). What a route would refuse comes out as the domain's error (`Forbidden`, `Conflict`,
`NotFound`, `ValidationFailed`), which the API turns into 403, 409, 404 and 422.

Checks that only the HTTP layer makes (a bearer token's role, a request body's shape) are not
here: they belong to the HTTP stories (`server`/`token` fixtures)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic_core import to_jsonable_python

from domain.actor import Actor, Role
from domain.china import today_in_china
from domain.errors import NotFound
from licensing import credit, registrar, review, window
from licensing.runtime import Runtime
from licensing.unit_of_work import Receipt
from licensing.window import BusinessDetails
from projections.views import (
    application_view,
    commitments_to_verify,
    credit_record,
    department_worklist,
    present_licence,
    supplement_notice,
    worklist_states,
)


def actor(role: str, department: str | None = None, *, sub: str | None = None) -> Actor:
    """The actor a bearer token of the `token` fixture names (the same ids, so audit trails
    read the same at either layer)."""
    return Actor(
        id=sub or f"{role}-{department or 'x'}",
        role=Role(role),
        department=department,
        district="chancheng" if role == "clerk" else None,
    )


CLERK = actor("clerk")


def _json(value: Any) -> Any:
    return to_jsonable_python(value)


def _business(body: dict[str, Any]) -> BusinessDetails:
    return BusinessDetails(
        uscc=body["uscc"],
        name=body["name"],
        entity_type=body["entity_type"],
        legal_representative=dict(body["legal_representative"]),
        domicile=body["domicile"],
        business_scope=body["business_scope"],
        registered_capital=Decimal(str(body["registered_capital"])),
    )


def _deficiencies(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The request body's dates arrive as text; the route's schema reads them as dates.
    return [
        {
            **entry,
            "supply_by": date.fromisoformat(entry["supply_by"])
            if isinstance(entry.get("supply_by"), str)
            else entry.get("supply_by"),
        }
        for entry in entries
    ]


class Service:
    """One runtime's commands and answers, as its actors use them (see the module's text)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # Reading, always after the read model has caught up.

    def _settled(self, receipt: Receipt) -> Receipt:
        self.runtime.projector.catch_up()
        return receipt

    def events(self) -> int:
        """How many events the store holds (a refused act adds none)."""
        return self.runtime.app.recorder.max_notification_id() or 0

    def application(self, application_id: UUID | str) -> dict[str, Any]:
        view = application_view(self.runtime.licensing.application(UUID(str(application_id))))
        return _json(view)

    def _answer(self, receipt: Receipt) -> dict[str, Any]:
        return self.application(self._settled(receipt).id)

    def licence(self, uscc: str) -> dict[str, Any]:
        """The live licence as the public sees it today (the read model's row, presented)."""
        self.runtime.projector.catch_up()
        row = self.runtime.view.licence(uscc)
        if row is None:
            msg = f"no licence with USCC {uscc}"
            raise NotFound(msg)
        return _json(present_licence(row, names=self.runtime.catalogue, today=today_in_china()))

    def permits(self, uscc: str) -> dict[str, dict[str, Any]]:
        return {p["permit_type"]: p for p in self.licence(uscc)["permits"]}

    def _licence_after(self, receipt: Receipt) -> dict[str, Any]:
        return self.licence(self._settled(receipt).uscc)

    def supplement_notice(self, application_id: UUID | str) -> dict[str, Any]:
        application = self.runtime.licensing.application(UUID(str(application_id)))
        return _json(supplement_notice(application))

    def worklist(
        self,
        department: str,
        *,
        state: str | None = None,
        status: str | None = None,
        overdue: bool = False,
    ) -> dict[str, Any]:
        """A department's worklist, filtered as the route's query parameters filter it."""
        self.runtime.projector.catch_up()
        today = self.runtime.licensing.today()
        tasks, total = self.runtime.view.tasks(
            department,
            states=worklist_states(state, status),
            overdue_on=today.isoformat() if overdue else None,
            theme=None,
            officer=None,
            unclaimed=False,
            limit=100,
            offset=0,
        )
        return _json(department_worklist(tasks, department=department, today=today, total=total))

    def verifications(self, department: str) -> dict[str, Any]:
        self.runtime.projector.catch_up()
        permits = self.runtime.view.verifications(department)
        today = self.runtime.licensing.today()
        return _json(commitments_to_verify(permits, department=department, today=today))

    # The window.

    def submit(self, body: dict[str, Any], *, by: Actor = CLERK) -> dict[str, Any]:
        """What `POST /api/v1/applications` does with this body (a `tests.stories.submission`)."""
        receipt = window.submit(
            self.runtime.licensing,
            theme=body["theme"],
            business=_business(body["business"]),
            applicant=dict(body["applicant"]),
            answers=dict(body["answers"]),
            situation=dict(body.get("situation") or {}),
            commitments=body.get("commitments") or {},
            fast_track=body.get("fast_track"),
            deficiencies=_deficiencies(body.get("deficiencies") or []),
            actor=by,
            accept_now=body.get("accept_now", True),
        )
        return self._answer(receipt)

    def accept(self, application_id: str, *, by: Actor = CLERK) -> dict[str, Any]:
        """受理 an application the window only received."""
        receipt = window.accept(
            self.runtime.licensing, application_id=UUID(application_id), actor=by
        )
        return self._answer(receipt)

    def refuse_acceptance(
        self, application_id: str, *, reason: str, basis: str, by: Actor = CLERK
    ) -> dict[str, Any]:
        """不予受理."""
        receipt = window.refuse_acceptance(
            self.runtime.licensing,
            application_id=UUID(application_id),
            actor=by,
            reason=reason,
            legal_basis=basis,
        )
        return self._answer(receipt)

    def resubmit(
        self,
        application_id: str,
        *,
        answers: dict[str, Any] | None = None,
        materials: list[str] | None = None,
        by: Actor = CLERK,
    ) -> dict[str, Any]:
        receipt = window.resubmit(
            self.runtime.licensing,
            application_id=UUID(application_id),
            actor=by,
            answers=answers or {},
            materials=materials or [],
        )
        return self._answer(receipt)

    def withdraw(self, application_id: str, *, reason: str, by: Actor = CLERK) -> dict[str, Any]:
        receipt = window.withdraw(
            self.runtime.licensing, application_id=UUID(application_id), actor=by, reason=reason
        )
        return self._answer(receipt)

    def supply_material(
        self, application_id: str, material: str, *, by: Actor = CLERK
    ) -> dict[str, Any]:
        receipt = window.supply_material(
            self.runtime.licensing, application_id=UUID(application_id), actor=by, material=material
        )
        return self._answer(receipt)

    def schedule_joint_inspection(
        self, application_id: str, *, on: date, by: Actor = CLERK
    ) -> dict[str, Any]:
        """联合勘查."""
        receipt = window.schedule_joint_inspection(
            self.runtime.licensing, application_id=UUID(application_id), actor=by, on=on
        )
        return self._answer(receipt)

    # The departments.

    def _task_act(
        self, handler: Any, application_id: str, permit_type: str, department: str, **body: Any
    ) -> dict[str, Any]:
        """A department's act on its own task of an application; answers with the application."""
        receipt = handler(
            self.runtime.licensing,
            application_id=UUID(application_id),
            permit_type=permit_type,
            actor=actor("department", department),
            **body,
        )
        return self._answer(receipt)

    def record_finding(
        self, application_id: str, permit_type: str, department: str, *, passed: bool, notes: str
    ) -> dict[str, Any]:
        """One department's finding at the joint inspection."""
        return self._task_act(
            review.record_finding,
            application_id,
            permit_type,
            department,
            passed=passed,
            notes=notes,
        )

    def approve_jointly(self, application_id: str, department: str) -> dict[str, Any]:
        """合并受理 on the fast track: every task of the department at once."""
        receipt = review.approve_jointly(
            self.runtime.licensing,
            application_id=UUID(application_id),
            actor=actor("department", department),
        )
        return self._answer(receipt)

    def approve(
        self, application_id: str, permit_type: str, department: str, *, number: str, **extra: Any
    ) -> dict[str, Any]:
        """Decision `approve`; `extra`: valid_from, valid_until, reason, legal_basis."""
        return self._task_act(
            review.approve, application_id, permit_type, department, permit_number=number, **extra
        )

    def approve_all(self, application: dict[str, Any], *, prefix: str) -> dict[str, Any]:
        """Every task approved by its own department, numbered `prefix-<permit type>`."""
        answer = application
        for task in application["tasks"]:
            answer = self.approve(
                application["id"],
                task["permit_type"],
                task["department"],
                number=f"{prefix}-{task['permit_type']}",
            )
        return answer

    def refuse(
        self, application_id: str, permit_type: str, department: str, *, reason: str, basis: str
    ) -> dict[str, Any]:
        return self._task_act(
            review.refuse, application_id, permit_type, department, reason=reason, legal_basis=basis
        )

    def request_supplement(
        self,
        application_id: str,
        permit_type: str,
        department: str,
        *,
        items: list[str],
        note: str = "",
    ) -> dict[str, Any]:
        return self._task_act(
            review.request_supplement,
            application_id,
            permit_type,
            department,
            items=items,
            note=note,
        )

    def permit_act(
        self, act: str, uscc: str, permit_type: str, department: str, **body: Any
    ) -> dict[str, Any]:
        """One of `licensing.review`'s acts on an issued permit (`suspend_permit`,
        `resume_permit`, `revoke_permit`, `cancel_permit`) by its own department, with `body`
        as its arguments; answers with the licence."""
        handler = getattr(review, act)
        receipt = handler(
            self.runtime.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor("department", department),
            **body,
        )
        return self._licence_after(receipt)

    def verify_commitment(
        self,
        uscc: str,
        permit_type: str,
        department: str,
        *,
        outcome: str,
        findings: str | None = None,
        basis: str | None = None,
        deadline: date | None = None,
    ) -> dict[str, Any]:
        """先证后核: outcome `confirmed`, `defects` (findings) or `false` (findings, basis)."""
        by = actor("department", department)
        licensing = self.runtime.licensing
        if outcome == "confirmed":
            receipt = review.confirm_commitment(
                licensing, uscc=uscc, permit_type=permit_type, actor=by
            )
        elif outcome == "defects":
            receipt = review.order_rectification(
                licensing,
                uscc=uscc,
                permit_type=permit_type,
                actor=by,
                findings=findings or "",
                deadline=deadline,
            )
        else:
            receipt = review.commitment_found_false(
                licensing,
                uscc=uscc,
                permit_type=permit_type,
                actor=by,
                findings=findings or "",
                legal_basis=basis or "",
            )
        return self._licence_after(receipt)

    def close_rectification(
        self,
        uscc: str,
        permit_type: str,
        department: str,
        *,
        passed: bool,
        reason: str,
        basis: str | None = None,
    ) -> dict[str, Any]:
        receipt = review.close_rectification(
            self.runtime.licensing,
            uscc=uscc,
            permit_type=permit_type,
            actor=actor("department", department),
            passed=passed,
            reason=reason,
            legal_basis=basis,
        )
        return self._licence_after(receipt)

    # The registrar.

    def registrar(self, act: str, uscc: str, *, sub: str = "reg-1", **body: Any) -> dict[str, Any]:
        """One of `licensing.registrar`'s acts (`change`, `suspend`, `resume`,
        `give_deregistration_notice`, `object_to_deregistration`, `deregister`, `revoke`,
        `cancel`) on `uscc`, with `body` as its arguments; answers with the licence."""
        handler = getattr(registrar, act)
        receipt = handler(
            self.runtime.licensing, uscc=uscc, actor=actor("registrar", sub=sub), **body
        )
        return self._licence_after(receipt)

    # The credit office.

    def credit_record(self, uscc: str) -> dict[str, Any]:
        """A business's credit listings and what they bar it from."""
        return _json(credit_record(uscc, self.runtime.licensing.credit_record(uscc)))

    def list_business(
        self, uscc: str, *, list_code: str, grounds: str, basis: str, sub: str = "c"
    ) -> None:
        """A listing on a credit list (经营异常名录, …)."""
        credit.list_business(
            self.runtime.licensing,
            uscc=uscc,
            actor=actor("credit", sub=sub),
            list_code=list_code,
            grounds=grounds,
            legal_basis=basis,
        )
        self.runtime.projector.catch_up()
