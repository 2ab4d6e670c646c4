"""电子送达 beyond decisions: one supplement notice per round for all departments (一次告知),
and a reminder before a promised missing material (容缺) is due.

Service-layer stories (memory, SQLite, PostgreSQL) with real SMTP and SMS transports; the
operator's `licensing deliver` runs against a real store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import httpx

from domain.china import today_in_china
from domain.uscc import make_uscc
from licensing.delivery import EmailSender, SmsGateway
from licensing.outbox import Outbox
from licensing.runtime import Runtime
from tests.service import Service
from tests.stories import APPLICANT, store_situation, submission, submit
from tests.test_delivery import Gateway, Mailbox, _no_proxy, gateway, smtp_server  # noqa: F401

RESTAURANT = make_uscc("91440611MA4NTCE01")
HOTEL = make_uscc("91440615MA4RMND01")
INN = make_uscc("91440615MA4RMND02")
NOTICE = "补正材料一次性告知书"
REMINDER = "容缺材料补正提醒"
FIRE_DESIGN = "消防设计审查意见书"
LEASE = "房屋租赁合同"


def _emails(mailbox: Mailbox, subject_starts: str) -> list[EmailMessage]:
    parsed = [BytesParser(policy=policy.default).parsebytes(m.content) for m in mailbox.received]
    return [m for m in parsed if str(m["subject"]).startswith(subject_starts)]


def _sender(port: int) -> EmailSender:
    return EmailSender(host="127.0.0.1", port=port, sender="证照通 <noreply@zzt.test>", timeout=5.0)


def _pass(outbox: Outbox) -> int:
    """One pass of `licensing deliver`: collect, remind, send."""
    outbox.collect()
    outbox.remind_due()
    return outbox.deliver_due()


def test_three_departments_ask_and_the_applicant_gets_one_notice_per_round(
    service: Service,
    smtp_server,  # noqa: F811 — the transports' fixtures, shared
    gateway: Gateway,  # noqa: F811
) -> None:
    runtime = service.runtime
    mailbox = Mailbox()
    channels = {
        "email": _sender(smtp_server(mailbox)),
        "sms": SmsGateway(url=gateway.url, timeout=5.0),
    }
    outbox = Outbox(runtime.licensing, channels=channels)
    application = service.submit(submission(runtime, "open_restaurant", RESTAURANT, "告知饭店"))
    app_id = application["id"]

    def ask(department: str, permit_type: str, items: list[str]) -> None:
        service.request_supplement(
            app_id, permit_type, department, items=items, note=f"{department} 请补充"
        )

    def approve(department: str, permit_type: str) -> None:
        service.approve(app_id, permit_type, department, number=f"{department.upper()}-1")

    ask("samr", "food_operation", ["厨房平面布局图"])
    ask("water", "sewage_discharge", ["隔油池设计图", "排水许可申请表"])
    approve("samr", "business_licence")
    approve("fire", "fire_safety_check")
    # The signboard is still queued: the notice is not complete, only decisions go.
    assert _pass(outbox) == 4
    assert _emails(mailbox, NOTICE) == []
    fire = runtime.catalogue.permit_type("fire_safety_check").name_zh
    assert f"准予许可决定书：{fire}" in {str(m["subject"]) for m in _emails(mailbox, "")}

    ask("urban", "outdoor_signboard", ["招牌效果图"])
    assert _pass(outbox) == 2  # the notice, by e-mail and by SMS
    [notice] = _emails(mailbox, NOTICE)
    body = notice.get_content()
    for item in ("厨房平面布局图", "隔油池设计图", "排水许可申请表", "招牌效果图"):
        assert body.count(item) == 2  # Chinese part and English part
    for department in ("samr", "water", "urban"):
        assert f"{department} 请补充" in body
    assert "一并提交" in body and RESTAURANT in body and fire not in body
    assert notice["to"].addresses[0].addr_spec == APPLICANT["email"]
    assert notice["X-Document-Id"] == f"{app_id}.supplement.1"
    [sms] = [r for r in gateway.requests if NOTICE in r.body["text"]]
    assert sms.body["to"] == APPLICANT["mobile"]

    # Collecting again, or a restarted outbox, sends nothing twice.
    assert outbox.collect() == 0 and outbox.deliver_due() == 0
    again = Outbox(runtime.licensing, channels=channels)
    assert again.collect() == 0 and again.remind_due() == 0 and again.deliver_due() == 0
    assert len(_emails(mailbox, NOTICE)) == 1

    # One resubmission answers it; the next round has its own notice, once the last
    # department still reviewing has decided.
    service.resubmit(
        app_id, materials=["厨房平面布局图", "隔油池设计图", "排水许可申请表", "招牌效果图"]
    )
    ask("samr", "food_operation", ["从业人员健康证明"])
    approve("water", "sewage_discharge")
    _pass(again)
    assert len(_emails(mailbox, NOTICE)) == 1
    approve("urban", "outdoor_signboard")
    _pass(again)
    _pass(Outbox(runtime.licensing, channels=channels))
    _, second = _emails(mailbox, NOTICE)
    assert second["X-Document-Id"] == f"{app_id}.supplement.2"
    body = second.get_content()
    assert "第 2 次" in body and "从业人员健康证明" in body and "招牌效果图" not in body
    assert len([r for r in gateway.requests if NOTICE in r.body["text"]]) == 2


def _with_deficiencies(runtime: Runtime, theme: str, uscc: str, supply_by: date) -> dict:
    body = submission(runtime, theme, uscc, "容缺旅馆")
    body["deficiencies"] = [
        {"material": material, "supply_by": supply_by.isoformat()}
        for material in (FIRE_DESIGN, LEASE)
    ]
    return body


def test_a_missing_material_is_reminded_three_working_days_before_its_date_once(
    service: Service,
    smtp_server,  # noqa: F811
) -> None:
    runtime = service.runtime
    calendar = runtime.licensing.calendar
    day0 = today_in_china()
    supply_by = calendar.add_working_days(day0, 6)
    mailbox = Mailbox()
    outbox = Outbox(runtime.licensing, channels={"email": _sender(smtp_server(mailbox))})
    hotel = service.submit(_with_deficiencies(runtime, "open_hotel", HOTEL, supply_by))
    inn = service.submit(_with_deficiencies(runtime, "open_hotel", INN, supply_by))
    # The hotel brings the lease at once; the inn withdraws altogether.
    service.supply_material(hotel["id"], LEASE)
    service.withdraw(inn["id"], reason="选址变更")

    for days in (0, 1, 2):  # six, five, four working days before: too early
        runtime.licensing.today = lambda days=days: calendar.add_working_days(day0, days)
        assert _pass(outbox) == 0
    runtime.licensing.today = lambda: calendar.add_working_days(day0, 3)
    assert _pass(outbox) == 1
    [reminder] = _emails(mailbox, REMINDER)
    assert str(reminder["subject"]) == f"{REMINDER}：{FIRE_DESIGN}（{supply_by.isoformat()} 前）"
    assert reminder["X-Document-Id"] == f"{hotel['id']}.reminder.1"
    assert HOTEL in reminder.get_content() and "终止办理" in reminder.get_content()
    # Not twice: not on the next pass, not the next day, not from a restarted outbox.
    assert _pass(outbox) == 0
    runtime.licensing.today = lambda: calendar.add_working_days(day0, 4)
    assert _pass(outbox) == 0 and _pass(Outbox(runtime.licensing, channels=outbox.channels)) == 0
    assert len(mailbox.received) == 1


def test_no_reminder_for_a_material_just_supplied_or_a_date_already_past(
    service: Service,
    smtp_server,  # noqa: F811
) -> None:
    runtime = service.runtime
    calendar = runtime.licensing.calendar
    day0 = today_in_china()
    mailbox = Mailbox()
    outbox = Outbox(runtime.licensing, channels={"email": _sender(smtp_server(mailbox))})
    hotel_by = calendar.add_working_days(day0, 5)
    hotel = service.submit(_with_deficiencies(runtime, "open_hotel", HOTEL, hotel_by))
    inn_by = calendar.add_working_days(day0, 2)
    service.submit(_with_deficiencies(runtime, "open_hotel", INN, inn_by))
    outbox.collect()
    # The outbox's last look was on day 0; on day 4 the hotel brings one material, and
    # the inn's date is past (the lapse job's turn, not a reminder's).
    runtime.licensing.today = lambda: calendar.add_working_days(day0, 4)
    service.supply_material(hotel["id"], FIRE_DESIGN)
    assert outbox.remind_due() == 1 and outbox.deliver_due() == 1
    [reminder] = _emails(mailbox, REMINDER)
    assert LEASE in str(reminder["subject"])
    assert _pass(outbox) == 0 and _pass(Outbox(runtime.licensing, channels=outbox.channels)) == 0


# Over HTTP and the CLI, on both real backends: `licensing deliver` is another process, which
# only a real store shares.


def test_the_operator_command_reminds_as_many_working_days_ahead_as_told(
    server: str,
    runtime: Runtime,
    token: Callable[..., str],
    smtp_server,  # noqa: F811
) -> None:
    from click.testing import CliRunner

    from licensing.cli import main
    from tests.test_cli import _env_of

    mailbox = Mailbox()
    env = _env_of(runtime.settings) | {
        "LICENSING_SMTP_HOST": "127.0.0.1",
        "LICENSING_SMTP_PORT": str(smtp_server(mailbox)),
    }
    supply_by = runtime.licensing.calendar.add_working_days(today_in_china(), 5)
    with httpx.Client(base_url=server) as client:
        submit(client, token("clerk"), _with_deficiencies(runtime, "open_hotel", HOTEL, supply_by))
    result = CliRunner().invoke(main, ["deliver"], env=env)
    assert result.exit_code == 0, result.output
    assert "reminders queued 0" in result.output and mailbox.received == []
    result = CliRunner().invoke(main, ["deliver", "--remind-days", "5"], env=env)
    assert result.exit_code == 0, result.output
    assert "queued 0, delivered 2, pending 0; reminders queued 2" in result.output
    assert len(_emails(mailbox, REMINDER)) == 2


def test_not_accepted_is_delivered_and_a_later_acceptance_keeps_its_missing_material(
    service: Service,
    smtp_server,  # noqa: F811
) -> None:
    runtime = service.runtime
    calendar = runtime.licensing.calendar
    day0 = today_in_china()
    supply_by = calendar.add_working_days(day0, 3)
    mailbox = Mailbox()
    outbox = Outbox(runtime.licensing, channels={"email": _sender(smtp_server(mailbox))})
    refused_body = submission(runtime, "open_hotel", HOTEL, "收件旅馆")
    late_body = _with_deficiencies(runtime, "open_hotel", INN, supply_by)
    for body in (refused_body, late_body):
        body["accept_now"] = False
    refused = service.submit(refused_body)
    late = service.submit(late_body)
    service.refuse_acceptance(refused["id"], reason="材料不属于本窗口", basis="第三十二条")
    # Received only: nothing is promised yet, so nothing to remind of.
    assert _pass(outbox) == 1
    [decision] = _emails(mailbox, "不予受理决定书")
    assert decision["X-Document-Id"] == f"{refused['id']}.not-accepted"
    assert "材料不属于本窗口" in decision.get_content()
    assert f"决定日期：{today_in_china()}" in decision.get_content()
    assert "行政复议" in decision.get_content()
    service.accept(late["id"])
    # Accepted with two missing materials due in three working days: both are reminded.
    assert _pass(outbox) == 2
    assert {m["X-Document-Id"] for m in _emails(mailbox, REMINDER)} == {
        f"{late['id']}.reminder.1",
        f"{late['id']}.reminder.2",
    }


def test_a_department_s_later_act_on_a_permit_is_served_to_the_applicant(
    service: Service,
    smtp_server,  # noqa: F811
) -> None:
    runtime = service.runtime
    store = make_uscc("91440615MA4ACT001")
    situation = store_situation()  # a filing: 有效 at once, so it can be suspended
    mailbox = Mailbox()
    outbox = Outbox(runtime.licensing, channels={"email": _sender(smtp_server(mailbox))})
    body = submission(runtime, "open_convenience_store", store, "送达便利店", situation)
    service.submit(body)
    assert _pass(outbox) == 0  # a filing on the spot decides nothing to serve
    service.permit_act(
        "suspend_permit",
        store,
        "prepackaged_food_filing",
        "samr",
        reason="抽检不合格",
        legal_basis="《食品安全法》第一百二十四条",
    )
    service.permit_act("resume_permit", store, "prepackaged_food_filing", "samr", reason="复检合格")
    assert _pass(outbox) == 2
    suspended, resumed = _emails(mailbox, "暂停许可决定书"), _emails(mailbox, "恢复许可通知书")
    assert len(suspended) == len(resumed) == 1
    text = suspended[0].get_content()
    assert "抽检不合格" in text and "《食品安全法》第一百二十四条" in text and "行政复议" in text
    assert str(suspended[0]["To"]).endswith(f"<{APPLICANT['email']}>")
    assert "行政复议" not in resumed[0].get_content()
    assert _pass(Outbox(runtime.licensing, channels=outbox.channels)) == 0  # never twice


def test_an_act_older_than_a_week_when_first_seen_is_not_served(
    service: Service,
    smtp_server,  # noqa: F811
) -> None:
    """After an upgrade the outbox reads the log from the start: old acts are not served."""
    runtime = service.runtime
    store = make_uscc("91440615MA4ALD001")
    mailbox = Mailbox()
    channels = {"email": _sender(smtp_server(mailbox))}
    body = submission(runtime, "open_restaurant", store, "旧事饭店")
    body["accept_now"] = False
    application = service.submit(body)
    service.refuse_acceptance(application["id"], reason="非本机关职权", basis="第三十二条")
    later = Outbox(
        runtime.licensing,
        channels=channels,
        now=lambda: datetime.now(tz=UTC) + timedelta(days=8),
    )
    assert _pass(later) == 0 and mailbox.received == []
    # Seen in time, the same act is served.
    assert _pass(Outbox(runtime.licensing, channels=channels)) == 1


def test_the_business_is_served_the_findings_the_public_page_leaves_out(
    service: Service,
    smtp_server,  # noqa: F811
) -> None:
    runtime = service.runtime
    hotel = make_uscc("91440615MA4FND001")
    mailbox = Mailbox()
    outbox = Outbox(runtime.licensing, channels={"email": _sender(smtp_server(mailbox))})
    body = submission(runtime, "open_hotel", hotel, "核查旅馆")
    body["commitments"] = {"fire_safety_check": {"version": "2025.1", "signed_by": "李测试"}}
    service.submit(body)
    service.verify_commitment(
        hotel, "fire_safety_check", "fire", outcome="defects", findings="疏散通道堵塞"
    )
    public = json.dumps(service.licence(hotel), ensure_ascii=False)
    assert "整改中" in public and "疏散通道堵塞" not in public
    assert _pass(outbox) == 1
    [order] = _emails(mailbox, "责令限期整改通知书")
    assert "查明：疏散通道堵塞" in order.get_content()
