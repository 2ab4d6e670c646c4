"""统一社会信用代码: real codes pass, minted codes pass, malformed ones say why."""

from __future__ import annotations

import pytest

from domain.errors import ValidationFailed
from domain.uscc import check_character, is_valid_uscc, make_uscc, validate_uscc

# Public codes of well-known companies (published on their licences / the credit system).
REAL_CODES = {
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "914403001922038216": "华为技术有限公司",
    "91440300192317458F": "比亚迪股份有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
    "91110000802100433B": "北京百度网讯科技有限公司",
    "91330100716105852F": "阿里巴巴（中国）有限公司",
}


def _reason(code: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        validate_uscc(code)
    [problem] = caught.value.problems
    assert problem.name == "uscc"
    return problem.reason


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_codes_of_large_companies_pass(code: str) -> None:
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("body", ["92440101MA5ABCDE1", "12440000455858800", "Y1440300000000001"])
def test_minted_codes_pass(body: str) -> None:
    code = make_uscc(body)
    assert len(code) == 18
    assert code.startswith(body)
    assert validate_uscc(code) == code


def test_lowercase_and_whitespace_are_normalised() -> None:
    assert validate_uscc("  91440300708461136t\n") == "91440300708461136T"
    assert is_valid_uscc("91440300708461136t")


def test_wrong_length_says_how_long() -> None:
    assert _reason("91440300708461136") == "must be 18 characters, got 17"
    assert _reason("") == "must be 18 characters, got 0"


def test_letters_left_out_by_the_standard_are_refused() -> None:
    assert _reason("91440O00708461136T") == ("character 'O' at position 5 is not allowed in a USCC")
    assert _reason("9144030070846113-T") == (
        "character '-' at position 16 is not allowed in a USCC"
    )


def test_wrong_check_character_names_the_right_one() -> None:
    assert _reason("91440300708461136Y") == "check character should be 'T', got 'Y'"
    assert not is_valid_uscc("91440300708461136Y")


def test_a_single_typo_is_caught() -> None:
    assert not is_valid_uscc("91440300708461163T")  # two digits swapped
    assert not is_valid_uscc("91440300708461137T")


def test_check_character_needs_seventeen_alphabet_characters() -> None:
    with pytest.raises(ValueError, match="expected 17 characters"):
        check_character("9144")
    with pytest.raises(ValueError, match="'I' is not allowed"):
        check_character("9144030070846113I")
