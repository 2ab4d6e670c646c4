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
