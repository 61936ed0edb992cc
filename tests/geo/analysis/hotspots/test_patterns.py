"""Each emerging category rule on hand-written series, boundaries included, and the vectorised classifier."""

from __future__ import annotations

import numpy as np
import pytest

from geo.analysis.hotspots import patterns
from geo.analysis.hotspots.patterns import (
    CATEGORIES,
    PRECEDENCE,
    RULES,
    classify,
    classify_cell,
    final_run,
    is_consecutive_cold,
    is_consecutive_hot,
    is_diminishing_cold,
    is_diminishing_hot,
    is_historical_cold,
    is_historical_hot,
    is_intensifying_cold,
    is_intensifying_hot,
    is_new_cold,
    is_new_hot,
    is_oscillating_cold,
    is_oscillating_hot,
    is_persistent_cold,
    is_persistent_hot,
    is_sporadic_cold,
    is_sporadic_hot,
)


def s(text: str) -> np.ndarray:
    """'..HH' -> hot series; 'C' marks cold steps (see `hc`)."""
    return np.array([c == "H" for c in text])


def hc(text: str) -> tuple[np.ndarray, np.ndarray]:
    return np.array([c == "H" for c in text]), np.array([c == "C" for c in text])


def test_final_run():
    assert [final_run(s(t)) for t in ("....", "...H", "H.HH", "HHHH")] == [0, 1, 2, 4]


@pytest.mark.parametrize(("text", "expected"), [
    ("...........H", True),
    ("CCCCCCCCCCCH", True),     # cold before does not matter to this rule (precedence does)
    ("H..........H", False),    # hot before
    ("..........H.", False),    # not the final step
    ("..........HH", False),
])
def test_new(text, expected):
    assert is_new_hot(*hc(text)) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("..........HH", True),
    ("..HHHHHHHHHH", True),     # 10 of 12 = 83 %: still < 90 %
    (".HHHHHHHHH", False),      # 9 of 10 = exactly 90 %: not fewer than 90 %
    ("...........H", False),    # a run of one is new, not consecutive
    ("H.........HH", False),    # hot before the final run
    ("........HH.", False),     # the run does not end at the final step
])
def test_consecutive(text, expected):
    assert is_consecutive_hot(*hc(text)) is expected


@pytest.mark.parametrize(("text", "trend", "rule"), [
    ("HHHHHHHHHH", 1, is_intensifying_hot),
    (".HHHHHHHHH", 1, is_intensifying_hot),     # exactly 90 %
    ("HHHHHHHHHH", 0, is_persistent_hot),
    ("H.HHHHHHHH", 0, is_persistent_hot),
    ("HHHHHHHHHH", -1, is_diminishing_hot),
    ("HHHHH.HHHH", -1, is_diminishing_hot),
])
def test_ninety_percent_rules_hold(text, trend, rule):
    assert rule(*hc(text), trend) is True
    others = {is_intensifying_hot, is_persistent_hot, is_diminishing_hot} - {rule}
    assert not any(other(*hc(text), trend) for other in others)


@pytest.mark.parametrize("rule", [is_intensifying_hot, is_persistent_hot, is_diminishing_hot])
@pytest.mark.parametrize("text", [
    "..HHHHHHHH",               # 80 %
    "HHHHHHHHH.",               # 90 % but not the final step
    ".HHHHHHHHHHHHHHH..HH",     # 17 of 20 = 85 %
    "CCHHHHHHHH",               # sfdep counts C as significant (90 %): not here
])
def test_ninety_percent_rules_fail(rule, text):
    assert not any(rule(*hc(text), trend) for trend in (-1, 0, 1))


@pytest.mark.parametrize(("text", "expected"), [
    ("..H...H....H", True),
    ("H.........HH", True),     # on before the final run
    ("...H......H.", False),    # sfdep's defect: final step not hot
    ("..H..C.....H", False),    # a cold step: oscillating, not sporadic
    ("...........H", False),    # nothing before: new
    (".........HHH", False),    # one run: consecutive
    ("HHHHHHHH.H", False),      # 9 of 10 = 90 %
])
def test_sporadic(text, expected):
    assert is_sporadic_hot(*hc(text)) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("..C........H", True),
    ("CCCCCCCCC.HH", True),
    ("..H..C....HH", True),
    ("..H........H", False),    # never cold
    ("..C........C", False),    # final step not hot
    ("CHHHHHHHHH", False),      # 9 of 10 hot = 90 %
])
def test_oscillating(text, expected):
    assert is_oscillating_hot(*hc(text)) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("HHHHHHHHH.", True),       # exactly 90 %, final not hot
    ("HHHHHHHHHC", True),
    ("HHHHHHHH..", False),      # 80 %
    ("HHHHHHHHHH", False),      # final hot
])
def test_historical(text, expected):
    assert is_historical_hot(*hc(text)) is expected


@pytest.mark.parametrize(("cold_rule", "hot_rule"), [
    (is_new_cold, is_new_hot), (is_consecutive_cold, is_consecutive_hot),
    (is_intensifying_cold, is_intensifying_hot), (is_persistent_cold, is_persistent_hot),
    (is_diminishing_cold, is_diminishing_hot), (is_sporadic_cold, is_sporadic_hot),
    (is_oscillating_cold, is_oscillating_hot), (is_historical_cold, is_historical_hot),
])
def test_cold_rules_mirror_hot_rules(cold_rule, hot_rule):
    rng = np.random.default_rng(0)
    for _ in range(300):
        state = rng.choice([0, 1, 2], size=10, p=[0.3, 0.5, 0.2])
        hot, cold = state == 1, state == 2
        trend = int(rng.integers(-1, 2))
        assert cold_rule(hot, cold, trend) == hot_rule(cold, hot, -trend)
    assert is_intensifying_cold(*hc("CCCCCCCCCC"), -1) and is_diminishing_cold(*hc("CCCCCCCCCC"), 1)


def test_precedence_oscillating_before_new_and_consecutive():
    assert classify_cell(*hc("..C........H")) == "oscillating hot spot"
    assert classify_cell(*hc("..H.......CC")) == "oscillating cold spot"
    assert classify_cell(*hc("...........H")) == "new hot spot"


def test_precedence_final_step_before_historical_of_the_other_side():
    hot, cold = hc("HHHHHHHHHHC")            # 10 of 11 hot, final step cold (after hot steps)
    assert is_historical_hot(hot, cold) and is_oscillating_cold(hot, cold) and is_new_cold(hot, cold)
    assert classify_cell(hot, cold) == "oscillating cold spot"


def test_every_category_is_named_once_and_ordered():
    assert sorted(PRECEDENCE) == sorted(CATEGORIES[1:]) == sorted(RULES)
    assert len(CATEGORIES) == 17


def random_cells(seed: int, cells: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random hot/cold series of every shape: rare, frequent, ending in a fresh run, either side."""
    rng = np.random.default_rng(seed)
    steps = int(rng.integers(10, 25))
    p_hot = rng.choice([0.02, 0.3, 0.95], cells)[:, None]
    p_cold = rng.choice([0.0, 0.05, 0.3], cells)[:, None]
    draw = rng.random((cells, steps))
    hot = draw < p_hot
    cold = ~hot & (draw > 1 - p_cold)
    fresh = rng.random(cells) < 0.3
    run = rng.integers(1, 4, cells)
    tail = np.arange(steps) >= steps - run[:, None]
    hot[fresh] = np.where(tail[fresh], True, hot[fresh] & (np.arange(steps) < steps - run[fresh, None] - 1))
    cold[fresh] &= ~tail[fresh]
    cold[fresh, steps - run[fresh] - 1] = False
    swap = rng.random(cells) < 0.5
    hot[swap], cold[swap] = cold[swap], hot[swap].copy()
    return hot, cold, rng.integers(-1, 2, cells)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_classification_equals_the_per_cell_rules(seed):
    hot, cold, trend = random_cells(seed)
    codes = classify(hot, cold, trend)
    expected = [classify_cell(h, c, t) for h, c, t in zip(hot, cold, trend)]
    assert [CATEGORIES[c] for c in codes] == expected
    assert set(expected) == set(CATEGORIES)  # the random cells reach every category


def test_only_the_documented_overlaps_exist():
    documented = {"oscillating hot spot": {"new hot spot", "consecutive hot spot"},
                  "oscillating cold spot": {"new cold spot", "consecutive cold spot"}}
    for seed in (4, 5):
        hot, cold, trend = random_cells(seed, 3000)
        for h, c, t in zip(hot, cold, trend):
            holding = {name for name, rule in RULES.items() if rule(h, c, t)}
            historical = {name for name in holding if name.startswith("historical")}
            final = holding - historical
            if historical and final:  # historical of one side, the final step on the other side
                assert {name.split()[1] for name in historical} != {name.split()[1] for name in final}
            if len(final) > 1:
                oscillating = (final & set(documented)).pop()
                assert final - {oscillating} <= documented[oscillating] and len(final) == 2


def test_rule_functions_are_module_level_with_docstrings():
    for name, rule in RULES.items():
        assert getattr(patterns, rule.__name__) is rule and rule.__doc__, name
