"""The five public permit statuses of the seed (000:133), and registration statuses."""

from __future__ import annotations

from enum import Enum


class PermitStatus(Enum):
    """What the public sees for a permit; only VALID lets the business operate."""

    UNDER_VERIFICATION = "under_verification"
    UNDER_RECTIFICATION = "under_rectification"
    VALID = "valid"
    NON_COMPLIANT = "non_compliant"
    INVALID = "invalid"

    @property
    def word(self) -> str:
        return _PERMIT_WORDS[self][0]

    @property
    def english(self) -> str:
        return _PERMIT_WORDS[self][1]


_PERMIT_WORDS = {
    PermitStatus.UNDER_VERIFICATION: ("核查中", "under verification"),
    PermitStatus.UNDER_RECTIFICATION: ("整改中", "under rectification"),
    PermitStatus.VALID: ("有效", "valid"),
    PermitStatus.NON_COMPLIANT: ("不合格", "non-compliant"),
    PermitStatus.INVALID: ("无效", "invalid"),
}


class RegistrationStatus(Enum):
    """Where the business registration (营业执照) stands."""

    ESTABLISHING = "establishing"
    ACTIVE = "active"
    REFUSED = "refused"
    SUSPENDED = "suspended"
    DEREGISTRATION_NOTICE = "deregistration_notice"
    DEREGISTERED = "deregistered"
    REVOKED = "revoked"
    CANCELLED = "cancelled"

    @property
    def word(self) -> str:
        return _REGISTRATION_WORDS[self][0]

    @property
    def english(self) -> str:
        return _REGISTRATION_WORDS[self][1]


_REGISTRATION_WORDS = {
    RegistrationStatus.ESTABLISHING: ("设立中", "being established"),
    RegistrationStatus.ACTIVE: ("存续", "active"),
    RegistrationStatus.REFUSED: ("不予登记", "registration refused"),
    RegistrationStatus.SUSPENDED: ("休业", "business suspended"),
    RegistrationStatus.DEREGISTRATION_NOTICE: ("简易注销公告中", "deregistration notice period"),
    RegistrationStatus.DEREGISTERED: ("注销", "deregistered"),
    RegistrationStatus.REVOKED: ("吊销", "licence revoked"),
    RegistrationStatus.CANCELLED: ("撤销登记", "registration cancelled"),
}


class Tone(Enum):
    """How bad a standing is for the business, worst last: the scan page takes the colour
    of the worst standing on the licence, and lists the worst permits first."""

    OK = "ok"  # in force
    CAUTION = "caution"  # not in force yet, or for a while: under review, rectifying, 休业 …
    STOP = "stop"  # not in force, and nothing pending will make it so

    @property
    def rank(self) -> int:
        return list(Tone).index(self)


class Standing(Enum):
    """Where a permit stands, in the words the scan page and the status document use: finer
    than the five public statuses, it says which act put a permit out of force. Every
    standing but IN_FORCE means the business may not carry on what the permit covers."""

    IN_FORCE = "in_force"
    UNDER_REVIEW = "under_review"
    PENDING_LICENCE = "pending_licence"  # 先照后证: granted, in force once the 营业执照 is issued
    RECTIFYING = "rectifying"
    NON_COMPLIANT = "non_compliant"
    SUSPENDED = "suspended"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    RESCINDED = "rescinded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    BUSINESS_EXITED = "business_exited"
    LICENCE_REFUSED = "licence_refused"

    @property
    def word(self) -> str:
        return _STANDINGS[self][0]

    @property
    def english(self) -> str:
        return _STANDINGS[self][1]

    @property
    def tone(self) -> Tone:
        return _STANDINGS[self][2]

    @property
    def in_force(self) -> bool:
        return self is Standing.IN_FORCE


_STANDINGS = {
    Standing.IN_FORCE: ("有效", "valid", Tone.OK),
    Standing.UNDER_REVIEW: ("审查中", "under review", Tone.CAUTION),
    Standing.PENDING_LICENCE: (
        "待营业执照核发后生效",
        "takes effect once the business licence is issued",
        Tone.CAUTION,
    ),
    Standing.RECTIFYING: ("整改中", "under rectification", Tone.CAUTION),
    Standing.NON_COMPLIANT: ("整改不合格", "failed rectification", Tone.STOP),
    Standing.SUSPENDED: ("暂停", "suspended", Tone.STOP),
    Standing.REFUSED: ("不予许可", "refused", Tone.STOP),
    Standing.WITHDRAWN: ("申请已撤回", "application withdrawn", Tone.STOP),
    Standing.REVOKED: ("已吊销", "revoked", Tone.STOP),
    Standing.RESCINDED: ("已撤销", "withdrawn by the department", Tone.STOP),
    Standing.CANCELLED: ("已注销", "cancelled", Tone.STOP),
    Standing.EXPIRED: ("已过期", "expired", Tone.STOP),
    Standing.BUSINESS_EXITED: ("随主体退出失效", "ended with the business", Tone.STOP),
    Standing.LICENCE_REFUSED: ("营业执照不予登记", "business licence refused", Tone.STOP),
}
