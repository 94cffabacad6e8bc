"""Chinese numerals up to 9999, as article numbers are written (第一千零五条, 第一千一百九十九条)."""

from __future__ import annotations

import pytest

from rag.text import cn_to_int, int_to_cn


@pytest.mark.parametrize(("n", "cn"), [
    (10, "十"), (15, "十五"), (110, "一百一十"), (105, "一百零五"), (1000, "一千"), (1005, "一千零五"),
    (1010, "一千零一十"), (1050, "一千零五十"), (1100, "一千一百"), (1199, "一千一百九十九"), (2024, "二千零二十四"),
    (9999, "九千九百九十九"),
])
def test_int_to_cn_follows_the_zero_rules(n: int, cn: str) -> None:
    assert int_to_cn(n) == cn
    assert cn_to_int(cn) == n


def test_every_number_to_9999_round_trips() -> None:
    assert all(cn_to_int(int_to_cn(n)) == n for n in range(1, 10_000))
    assert cn_to_int("两千") == 2000 and cn_to_int("1199") == 1199


@pytest.mark.parametrize("n", [0, -1, 10_000])
def test_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        int_to_cn(n)


def test_ten_thousand_is_not_a_numeral_we_read() -> None:
    with pytest.raises(ValueError):
        cn_to_int("一万")
