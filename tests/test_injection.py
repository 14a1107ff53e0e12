"""The fault injection rules every way into the server shares."""

from __future__ import annotations

import math

import pytest

from facekit import _injection, _spec


def test_rates_parse_with_either_separator() -> None:
    assert _injection.parse_injections([]) == {}
    assert _injection.parse_rate("18:0.2") == (18, 0.2)
    assert _injection.parse_injections(["18=0.2", "216300:0.1"]) == {
        18: 0.2,
        216300: 0.1,
    }


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("18", "not CODE:RATE"),
        ("x:0.2", "not CODE:RATE"),
        ("18:often", "not CODE:RATE"),
        ("999999:0.1", "not an error code"),
        ("18:1.5", "between 0 and 1"),
        ("18:-0.1", "between 0 and 1"),
        ("18:nan", "between 0 and 1"),
    ],
)
def test_a_bad_rate_is_named(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        _injection.parse_rate(text)


def test_every_code_of_the_spec_can_be_injected() -> None:
    rates = {code: 0.0 for code in _spec.error_codes()}
    assert _injection.check_rates(rates) == rates


def test_rates_add_up_to_at_most_one() -> None:
    assert math.isclose(
        sum(_injection.parse_injections(["18:0.5", "4:0.5"]).values()), 1
    )
    with pytest.raises(ValueError, match="more than 1"):
        _injection.parse_injections(["18:0.6", "4:0.6"])


def test_a_bool_is_not_a_code() -> None:
    with pytest.raises(ValueError, match="not an error code"):
        _injection.check_rates({True: 0.1})
