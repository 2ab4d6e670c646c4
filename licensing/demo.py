"""Demo data: a hotel approved by all seven departments, and a restaurant with one refusal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.actor import Actor, Role
from domain.china import today_in_china
from domain.errors import NotFound
from domain.uscc import make_uscc
from licensing import review, window
from licensing.catalogue import Catalogue, FormField
from licensing.unit_of_work import Licensing
from licensing.window import BusinessDetails

CLERK = Actor(id="demo-clerk", role=Role.CLERK, district="chancheng")

# Values a clerk would type for the questions the demo themes ask; anything else is
# filled from the field's type so the demo keeps working when the catalogue grows.
_KNOWN: dict[str, Any] = {
    "premises_address": "佛山市禅城区祖庙路 18 号",
    "opening_hours": "00:00-24:00",
}


@dataclass(frozen=True)
class DemoBusiness:
    theme: str
    uscc: str
    name: str
    domicile: str
    scope: str
    refuse: str | None = None  # permit type the demo refuses


HOTEL = DemoBusiness(
    theme="open_hotel",
    uscc=make_uscc("91440604MA55D3M00"),
    name="佛山市禅城区祖庙客栈有限公司",
    domicile="佛山市禅城区祖庙路 18 号",
    scope="住宿服务；餐饮服务；烟草制品零售",
)
RESTAURANT = DemoBusiness(
    theme="open_restaurant",
    uscc=make_uscc("91440604MA55D3M01"),
    name="佛山市禅城区岭南味道餐饮有限公司",
    domicile="佛山市禅城区升平路 6 号",
    scope="餐饮服务；食品销售",
    refuse="sewage_discharge",
)


def sample_answer(field: FormField) -> Any:
    if field.code in _KNOWN:
        return _KNOWN[field.code]
    if field.type == "choice":
        return field.choices[0].code
    if field.type == "boolean":
        return True
    if field.type in ("integer", "decimal"):
        value = Decimal(10)
        if field.min is not None:
            value = max(value, field.min)
        if field.max is not None:
            value = min(value, field.max)
        return int(value) if field.type == "integer" else str(value)
    if field.type == "date":
        return today_in_china().isoformat()
    return f"{field.label_zh}（示例）"


def sample_answers(
    catalogue: Catalogue, theme: str, situation: dict[str, Any] | None = None
) -> dict[str, Any]:
    form = catalogue.merged_form(theme, situation)
    return {f.field.code: sample_answer(f.field) for f in form.fields}


def load(licensing: Licensing) -> list[str]:
    """Submit and decide the demo bundles (once); returns their USCCs."""
    loaded = []
    for business in (HOTEL, RESTAURANT):
        loaded.append(business.uscc)
        try:
            licensing.permit(business.uscc, "business_licence")
            continue  # already loaded
        except NotFound:
            pass
        receipt = window.submit(
            licensing,
            theme=business.theme,
            business=BusinessDetails(
                uscc=business.uscc,
                name=business.name,
                entity_type="limited_company",
                legal_representative={
                    "name": "张示例",
                    "id_number": "440604199001011234",
                    "mobile": "13800138000",
                },
                domicile=business.domicile,
                business_scope=business.scope,
                registered_capital=Decimal("500000"),
            ),
            applicant={
                "contact_name": "张示例",
                "mobile": "13800138000",
                "email": "demo@example.cn",
            },
            answers=sample_answers(licensing.catalogue, business.theme),
            actor=CLERK,
        )
        application = licensing.application(receipt.id)
        for n, task in enumerate(application.tasks.values(), start=1):
            reviewer = Actor(
                id=f"demo-{task.department}", role=Role.DEPARTMENT, department=task.department
            )
            if task.permit_type == business.refuse:
                review.refuse(
                    licensing,
                    application_id=receipt.id,
                    permit_type=task.permit_type,
                    actor=reviewer,
                    reason="排水设施未按规定设置隔油池 grease trap missing",
                    legal_basis="《城镇排水与污水处理条例》第二十一条",
                )
            else:
                review.approve(
                    licensing,
                    application_id=receipt.id,
                    permit_type=task.permit_type,
                    actor=reviewer,
                    permit_number=f"DEMO-{task.department.upper()}-{n:03d}",
                )
    return loaded
