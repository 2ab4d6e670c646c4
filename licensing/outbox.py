"""The outbox: decisions, later acts on permits, supplement notices and 容缺 reminders out of
the event log, to the applicant's e-mail and phone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.bundle import IN_REVIEW, TASK_QUEUED, BundleApplication
from domain.china import day_in_china
from domain.delivery import PENDING, WEBHOOK, Delivery
from domain.permit import Permit, public_reason
from licensing.delivery import Channel, DeliveryFailed, Document, RetryPolicy, is_email, is_mobile
from licensing.progress import DOCUMENT as PROGRESS_CODE
from licensing.progress import PLACEHOLDER, ProgressCodes, code_matches
from licensing.unit_of_work import Licensing

log = logging.getLogger(__name__)
DECISIONS = (BundleApplication.TaskApproved, BundleApplication.TaskRefused)
# After these an application no longer waits for anything from the applicant.
ENDINGS = (
    BundleApplication.Decided,
    BundleApplication.Withdrawn,
    BundleApplication.Lapsed,
    BundleApplication.NotAccepted,
)
# A department's later acts on an issued permit, each a document the business is served,
# by its title.
PERMIT_ACTS = {
    Permit.Suspended: "暂停许可决定书",
    Permit.Resumed: "恢复许可通知书",
    Permit.Revoked: "吊销许可决定书",
    Permit.Cancelled: "注销许可决定书",
    Permit.CommitmentFalse: "撤销许可决定书",
    Permit.RectificationOrdered: "责令限期整改通知书",
    Permit.RectificationFailed: "整改不合格决定书",
}
# The events that dispatch an application, with the materials it was accepted without.
ACCEPTANCES = (BundleApplication.Submitted, BundleApplication.Accepted)
REMIND_WORKING_DAYS = 3
MAX_AGE = timedelta(days=7)  # an act older than this when first seen is not served


@dataclass(frozen=True)
class PromisedMaterial:
    """A material accepted as missing (容缺受理), not supplied yet, and its reminder's id."""

    material: str
    supply_by: date
    document_id: str


class Outbox:
    """Reads the log for what the applicant must be sent, queues one delivery per document and
    channel (idempotent: a delivery's id derives from the document), and sends what is due with
    retries. Everything it keeps in memory is rebuilt from the log, so a restart loses nothing.

    The documents: each decision on a task (许可决定书) and a 不予受理决定书; a department's
    later act on a permit (暂停, 恢复, 吊销, 注销, 撤销, 整改); the consolidated supplement notice
    (一次性告知书), once per round, when no task of the application is still queued; and a
    reminder per missing material, `remind_days` working days before its promised date; and
    the progress code (办件查询) of each acceptance, by SMS only, its code put in the text only
    when it is sent (`progress_codes` derives it; the log holds a placeholder)."""

    def __init__(
        self,
        licensing: Licensing,
        *,
        channels: dict[str, Channel],
        policy: RetryPolicy | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
        remind_days: int = REMIND_WORKING_DAYS,
        max_age: timedelta = MAX_AGE,
        progress_codes: ProgressCodes | None = None,
    ) -> None:
        if remind_days < 0:
            raise ValueError("remind_days must be >= 0")
        self.licensing = licensing
        self.channels = channels
        self.policy = policy or RetryPolicy()
        self.now = now
        self.max_age = max_age
        self.remind_days = remind_days
        self.progress_codes = progress_codes
        self.position = 0
        self.pending: dict[UUID, datetime | None] = {}  # delivery id -> not before
        # Applications with a supplement request whose round has had no notice yet.
        self.awaiting_notice: set[UUID] = set()
        self.rounds: dict[UUID, int] = {}  # application id -> supplement round, when past 1
        # Missing materials not supplied yet, per application, until reminded of.
        self.promised: dict[UUID, dict[str, PromisedMaterial]] = {}

    def collect(self) -> int:
        """Queue deliveries for decisions and complete supplement notices not seen yet, and
        note missing materials to remind of; returns how many deliveries were queued."""
        queued = 0
        while True:
            notifications = self.licensing.store.recorder.select_notifications(
                start=self.position, limit=500, inclusive_of_start=False
            )
            if not notifications:
                return queued
            for notification in notifications:
                event = self.licensing.store.mapper.to_domain_event(notification)
                if isinstance(event, BundleApplication.Event):
                    queued += self._follow(event)
                elif type(event) in PERMIT_ACTS:
                    queued += self._serve_permit_act(event)
                elif isinstance(event, Delivery.Queued):
                    if event.channel == WEBHOOK or event.application_id is None:
                        continue  # a feed entry for a department: licensing.webhooks sends it
                    self.pending.setdefault(event.originator_id, None)
                    self._forget_promise(event.application_id, event.document_id)
                elif isinstance(event, Delivery.AttemptFailed) and event.retry_at is not None:
                    if event.originator_id in self.pending:  # not a webhook's
                        self.pending[event.originator_id] = event.retry_at
                elif isinstance(event, Delivery.AttemptFailed | Delivery.Delivered):
                    self.pending.pop(event.originator_id, None)  # delivered, or no retry left
            self.position = notifications[-1].id

    def _serve_permit_act(self, event: Any) -> int:
        """Served to the contact of the application the permit was last applied under."""
        permit: Permit = self.licensing.store.repository.get(
            event.originator_id, version=event.originator_version
        )
        application = self.licensing.application(permit.application_id)
        document = permit_act_document(self.licensing, application, permit, event)
        return self._queue(application, document, at=event.timestamp)

    def _follow(self, event: Any) -> int:
        """One event of an application: what it queues now, and what it changes for later."""
        application_id: UUID = event.originator_id
        queued = 0
        if isinstance(event, DECISIONS):
            application = self.licensing.application(application_id)
            document = decision_document(self.licensing, application, event)
            queued += self._queue(application, document, at=event.timestamp)
        if isinstance(event, BundleApplication.ProgressCodeIssued) and self.progress_codes:
            application = self.licensing.application(application_id)
            document = progress_code_document(self.licensing, application, event.issue)
            queued += self._queue(application, document, at=event.timestamp, only="sms")
        if isinstance(event, BundleApplication.NotAccepted):
            application = self.licensing.application(application_id)
            document = not_accepted_document(self.licensing, application, event)
            queued += self._queue(application, document, at=event.timestamp)
        if isinstance(event, ACCEPTANCES) and event.deficiencies:
            self.promised[application_id] = {
                d["material"]: PromisedMaterial(
                    material=d["material"],
                    supply_by=date.fromisoformat(str(d["supply_by"])),
                    document_id=f"{application_id}.reminder.{n}",
                )
                for n, d in enumerate(event.deficiencies, start=1)
            }
        elif isinstance(event, BundleApplication.MaterialSupplied):
            self._forget_promise(application_id, material=event.material)
        elif isinstance(event, BundleApplication.SupplementRequested):
            self.awaiting_notice.add(application_id)
        elif isinstance(event, BundleApplication.Resubmitted):
            self.awaiting_notice.discard(application_id)
            self.rounds[application_id] = self.rounds.get(application_id, 1) + 1
        elif isinstance(event, ENDINGS):
            self.awaiting_notice.discard(application_id)
            self.rounds.pop(application_id, None)
            self.promised.pop(application_id, None)
        if application_id in self.awaiting_notice:
            queued += self._notice_if_complete(event)
        return queued

    def _notice_if_complete(self, event: Any) -> int:
        """The notice goes once every department has had its say in this round: no task is
        queued any more, and some task awaits a supplement. The state is read as it was at
        this event, so replaying the log later makes the same decision."""
        application: BundleApplication = self.licensing.store.repository.get(
            event.originator_id, version=event.originator_version
        )
        if application.status != IN_REVIEW or any(
            t.state == TASK_QUEUED for t in application.tasks.values()
        ):
            return 0
        if not application.supplement_notice():
            return 0
        self.awaiting_notice.discard(application.id)
        round_ = self.rounds.get(application.id, 1)
        document = supplement_notice_document(self.licensing, application, round_)
        return self._queue(application, document, at=event.timestamp)

    def _forget_promise(
        self, application_id: UUID, document_id: str | None = None, material: str | None = None
    ) -> None:
        promises = self.promised.get(application_id)
        if promises is None:
            return
        for promise in list(promises.values()):
            if promise.material == material or promise.document_id == document_id:
                del promises[promise.material]
        if not promises:
            del self.promised[application_id]

    def remind_due(self) -> int:
        """Queue a reminder for every missing material whose promised date is at most
        `remind_days` working days away (by the application's clock and calendar), once; a
        date already past is left to the lapse job. Returns how many deliveries were queued."""
        today = self.licensing.today()
        horizon = self.licensing.calendar.add_working_days(today, self.remind_days)
        queued = 0
        for application_id in sorted(self.promised, key=str):
            promises = self.promised[application_id]
            due = [p for p in promises.values() if p.supply_by <= horizon]
            if not due:
                continue
            # The index may lag the log by a moment: ask the aggregate before sending.
            application = self.licensing.application(application_id)
            for promise in due:
                entry = application.deficiencies.get(promise.material)
                if (
                    promise.supply_by >= today
                    and application.status == IN_REVIEW
                    and entry is not None
                    and entry["supplied_on"] is None
                ):
                    document = reminder_document(self.licensing, application, promise)
                    queued += self._queue(application, document)
                self._forget_promise(application_id, material=promise.material)
        return queued

    def _queue(
        self,
        application: BundleApplication,
        document: Document,
        *,
        at: datetime | None = None,
        only: str | None = None,
    ) -> int:
        """Queue the document on each channel the applicant gave. A document about an act
        older than `max_age` is not served: after an upgrade that teaches the outbox a new
        kind of document, reading the log from the start must not serve years of old ones."""
        if at is not None and self.now() - at > self.max_age:
            log.info("not served, the act is older than %s: %s", self.max_age, document.id)
            return 0
        addresses = {
            "email": application.applicant.get("email"),
            "sms": application.applicant.get("mobile"),
        }
        queued = 0
        for channel, to in addresses.items():
            if channel not in self.channels or not to or (only and channel != only):
                continue
            if not (is_email(to) if channel == "email" else is_mobile(to)):
                continue
            delivery = Delivery(
                document_id=document.id,
                application_id=application.id,
                channel=channel,
                to=to,
                subject=document.subject,
                body=document.body,
                recipient_name=document.recipient_name,
            )
            try:
                self.licensing.store.save(delivery)
            except IntegrityError:
                continue  # queued before (a restart, or another outbox)
            self.pending[delivery.id] = None
            queued += 1
        return queued

    def deliver_due(self) -> int:
        """Attempt every pending delivery whose time has come; returns how many were sent."""
        sent = 0
        now = self.now()
        for delivery_id, not_before in sorted(self.pending.items(), key=lambda kv: str(kv[0])):
            if not_before is not None and not_before > now:
                continue
            delivery: Delivery = self.licensing.store.repository.get(delivery_id)
            if delivery.state != PENDING:
                self.pending.pop(delivery_id, None)
                continue
            document = Document(
                id=delivery.document_id,
                subject=delivery.subject,
                body=delivery.body,
                recipient_name=delivery.recipient_name,
            )
            try:
                if PROGRESS_CODE in delivery.document_id:
                    document = self._with_progress_code(delivery, document)
                transport_id = self.channels[delivery.channel].send(document, to=delivery.to)
            except DeliveryFailed as error:
                delay = self.policy.next_delay(delivery.attempts + 1) if error.retryable else None
                retry_at = now + timedelta(seconds=delay) if delay is not None else None
                delivery.failed(reason=error.reason, retry_at=retry_at)
                if retry_at is None:
                    log.error(
                        "delivery %s by %s failed for good: %s",
                        delivery.document_id,
                        delivery.channel,
                        error.reason,
                    )
                    self.pending.pop(delivery_id, None)
                else:
                    self.pending[delivery_id] = retry_at
            else:
                delivery.delivered(transport_id=transport_id)
                self.pending.pop(delivery_id, None)
                sent += 1
            self.licensing.store.save(delivery)
        return sent

    def _with_progress_code(self, delivery: Delivery, document: Document) -> Document:
        """The progress code in its place, if it is still the application's code: a newer
        one replaces it, and a data folder whose secret no longer derives it (restored
        without it) must not send a code that does not work."""
        issue = int(delivery.document_id.rsplit(".", 1)[1])
        assert delivery.application_id is not None  # queued for an application
        application = self.licensing.application(delivery.application_id)
        if issue != application.progress_code_issue:
            raise DeliveryFailed("a newer progress code replaced this one", retryable=False)
        if self.progress_codes is None:
            raise DeliveryFailed("no progress-code secret here", retryable=False)
        code = self.progress_codes.code(application.id, issue)
        if not code_matches(application, code):
            raise DeliveryFailed(
                "the data folder's progress-code secret does not derive this code",
                retryable=False,
            )
        return Document(
            id=document.id,
            subject=document.subject.replace(PLACEHOLDER, code),
            body=document.body.replace(PLACEHOLDER, code),
            recipient_name=document.recipient_name,
        )


def _recipient(application: BundleApplication) -> str:
    return str(application.applicant.get("contact_name", ""))


# The line every adverse decision document ends with.
REMEDY = "如不服本决定，可依法申请行政复议或者提起行政诉讼。"


def _permit_names(licensing: Licensing, code: str) -> tuple[str, str]:
    """A permit type's zh and en names; its code if the catalogue no longer knows it."""
    permit = licensing.catalogue.permit_types.get(code)
    return (permit.name_zh, permit.name_en) if permit else (code, code)


def _department_names(licensing: Licensing, code: str) -> tuple[str, str]:
    department = licensing.catalogue.departments.get(code)
    return (department.name_zh, department.name_en) if department else (code, code)


def _theme_name(licensing: Licensing, application: BundleApplication) -> str:
    theme = licensing.catalogue.themes.get(application.theme)
    return theme.name_zh if theme else application.theme


def decision_document(
    licensing: Licensing, application: BundleApplication, decision: Any
) -> Document:
    """The decision document (许可决定书) of one task, in Chinese first, then English."""
    name_zh, name_en = _permit_names(licensing, decision.permit_type)
    department_zh, _ = _department_names(
        licensing, application.task(decision.permit_type).department
    )
    approved = isinstance(decision, BundleApplication.TaskApproved)
    title = "准予许可决定书" if approved else "不予许可决定书"
    lines = [
        f"{title}（{name_zh}）",
        f"统一社会信用代码：{application.uscc}",
        f"决定机关：{department_zh}",
        f"决定日期：{day_in_china(decision.timestamp).isoformat()}",
    ]
    if approved:
        lines.append(f"许可证编号：{decision.permit_number}")
    else:
        lines += [
            f"理由：{decision.reason}",
            f"依据：{decision.legal_basis}",
            REMEDY,
        ]
    lines += [
        "",
        f"{'Decision to grant' if approved else 'Decision to refuse'}: {name_en}",
        f"USCC {application.uscc}; decided {day_in_china(decision.timestamp).isoformat()}.",
    ]
    return Document(
        id=f"{application.id}.{decision.permit_type}.{decision.originator_version}",
        subject=f"{title}：{name_zh}",
        body="\n".join(lines),
        recipient_name=_recipient(application),
    )


def permit_act_document(
    licensing: Licensing, application: BundleApplication, permit: Permit, event: Any
) -> Document:
    """A department's act on an issued permit: what it decided, why, and on what basis."""
    name_zh, name_en = _permit_names(licensing, permit.permit_type)
    title = PERMIT_ACTS[type(event)]
    day = day_in_china(event.timestamp).isoformat()
    lines = [
        f"{title}（{name_zh}）",
        f"统一社会信用代码：{application.uscc}",
        f"许可证编号：{permit.number or '—'}",
        f"决定机关：{_department_names(licensing, permit.department)[0]}",
        f"决定日期：{day}",
        f"内容：{public_reason(event)}",
    ]
    findings = getattr(event, "findings", None)
    if findings:  # served to the business, never shown on the public page
        lines.append(f"查明：{findings}")
    legal_basis = getattr(event, "legal_basis", None)
    if legal_basis:
        lines.append(f"依据：{legal_basis}")
    if not isinstance(event, Permit.Resumed):
        lines.append(REMEDY)
    lines += ["", f"{type(event).__name__}: {name_en}", f"USCC {application.uscc}; {day}."]
    return Document(
        id=f"{permit.id}.{event.originator_version}",
        subject=f"{title}：{name_zh}",
        body="\n".join(lines),
        recipient_name=_recipient(application),
    )


def not_accepted_document(
    licensing: Licensing, application: BundleApplication, event: Any
) -> Document:
    """不予受理决定书: the application ends before any department saw it; the reason and basis."""
    theme = _theme_name(licensing, application)
    title = "不予受理决定书"
    lines = [
        title,
        f"统一社会信用代码：{application.uscc}",
        f"申请事项：{theme}",
        f"决定日期：{day_in_china(event.timestamp).isoformat()}",
        f"决定：不予受理。理由：{event.reason}",
        f"依据：{event.legal_basis}",
        REMEDY,
        "",
        "Decision not to accept the application",
        f"USCC {application.uscc}. Reason: {event.reason}. Legal basis: {event.legal_basis}.",
    ]
    return Document(
        id=f"{application.id}.not-accepted",
        subject=f"{title}（{theme}）",
        body="\n".join(lines),
        recipient_name=_recipient(application),
    )


def supplement_notice_document(
    licensing: Licensing, application: BundleApplication, round_: int
) -> Document:
    """一次性告知书: every department's open request of this round, in one document."""
    theme = _theme_name(licensing, application)
    zh, en = [], []
    for n, request in enumerate(application.supplement_notice(), start=1):
        dept_zh, dept_en = _department_names(licensing, request["department"])
        permit_zh, permit_en = _permit_names(licensing, request["permit_type"])
        zh.append(f"{n}. {dept_zh}（{permit_zh}），{request['requested_on']} 告知：")
        zh += [f"   - {item}" for item in request["items"]]
        if request.get("note"):
            zh.append(f"   说明：{request['note']}")
        en.append(f"{n}. {dept_en} ({permit_en}): {'; '.join(request['items'])}")
    title = "补正材料一次性告知书"
    lines = [
        f"{title}（第 {round_} 次）",
        f"统一社会信用代码：{application.uscc}",
        f"申请事项：{theme}",
        "经审查，以下各部门需要您补正材料。请一次性备齐下列全部材料，到办理窗口一并提交；"
        "窗口一次收件后，各部门暂停的办理时限同时恢复计算。",
        "",
        *zh,
        "",
        f"Notice to supplement, all departments at once (round {round_})",
        f"USCC {application.uscc}. Bring every item below to the service window together, in "
        "one resubmission; every paused review then resumes.",
        *en,
    ]
    return Document(
        id=f"{application.id}.supplement.{round_}",
        subject=f"{title}（{theme}）",
        body="\n".join(lines),
        recipient_name=_recipient(application),
    )


def reminder_document(
    licensing: Licensing, application: BundleApplication, promise: PromisedMaterial
) -> Document:
    """容缺补正提醒: a missing material is due soon; missing the date ends the application."""
    theme = _theme_name(licensing, application)
    due = promise.supply_by.isoformat()
    lines = [
        "容缺受理材料补正提醒",
        f"统一社会信用代码：{application.uscc}",
        f"申请事项：{theme}",
        f"您在容缺受理时承诺于 {due} 前补交：{promise.material}",
        "请按时到办理窗口补交。逾期未补交的，尚未办结的事项将终止办理。",
        "",
        f"Reminder: the missing material “{promise.material}” promised at acceptance is due "
        f"by {due}. Bring it to the service window; if it is late, the undecided permits of "
        "the application end.",
    ]
    return Document(
        id=promise.document_id,
        subject=f"容缺材料补正提醒：{promise.material}（{due} 前）",
        body="\n".join(lines),
        recipient_name=_recipient(application),
    )


def progress_code_document(
    licensing: Licensing, application: BundleApplication, issue: int
) -> Document:
    """办件查询码: the application's number and its code (a placeholder until it is sent)."""
    theme = _theme_name(licensing, application)
    subject = (
        f"您的{theme}申请已受理。办件查询：申请编号 {application.id}，查询码 {PLACEHOLDER}"
        "（请勿告知他人；工作人员不会索要）"
    )
    lines = [
        subject,
        "",
        f"Your application {application.id} is accepted. Follow it with progress code "
        f"{PLACEHOLDER} (keep it to yourself).",
    ]
    return Document(
        id=f"{application.id}{PROGRESS_CODE}{issue}",
        subject=subject,
        body="\n".join(lines),
        recipient_name=_recipient(application),
    )
