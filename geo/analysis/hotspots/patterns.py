"""Emerging hot and cold spot categories (Esri's definitions, DESIGN.md section 5).

Each rule is a small function of one cell's series: ``hot`` and ``cold`` (boolean, one
value per time step, oldest first: significant and z > 0, significant and z < 0) and
``trend``, the Mann-Kendall trend of its z series (+1 increasing, -1 decreasing,
0 none). "90 %" is inclusive and exact: ``10 * steps >= 9 * total``. Cold rules mirror
hot ones: swap ``hot`` and ``cold`` and reverse the trend (an intensifying cold spot
has z going down).

Reading of the definitions where they leave room:

- *sporadic*: "on and off before" means at least one sig-hot step before the final
  run of sig-hot steps (at least two separate runs); so new (one run of length 1) and
  consecutive (one run of length >= 2) are never sporadic. Unlike R's sfdep, it
  requires the final step to be sig hot, and no step at all to be sig cold.
- *intensifying* / *diminishing*: the >= 90 % counts sig-*hot* steps only (sfdep
  counts significance of either sign).

Precedence, when two rules hold (`classify_cell`, and `classify` which equals it):

1. *oscillating* before *new* and *consecutive*: a cell sig cold earlier, then hot only
   in a final run, matches all of them literally; oscillating is the only one of them
   that reads the cold history, so it says more (it flipped from cold to hot).
2. the categories that need the final step before *historical* of the other side: a
   cell >= 90 % hot whose final step is sig cold is, say, a new cold spot rather than
   a historical hot spot, as the GPO acts on the present state.

No other pair of rules can hold together (tested over random series).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _at_least_90(sig: np.ndarray) -> bool:
    return 10 * int(np.count_nonzero(sig)) >= 9 * len(sig)


def final_run(sig: np.ndarray) -> int:
    """Length of the run of True that ends at the final step.

    >>> final_run(np.array([True, False, True, True]))
    2
    """
    off = np.flatnonzero(~np.asarray(sig, bool))
    return len(sig) - (int(off[-1]) + 1 if off.size else 0)


def is_new_hot(hot, cold, trend=0) -> bool:
    """Sig hot at the final step and never before.

    >>> is_new_hot(np.array([False] * 9 + [True]), np.zeros(10, bool))
    True
    """
    hot = np.asarray(hot, bool)
    return bool(hot[-1] and not hot[:-1].any())


def is_consecutive_hot(hot, cold, trend=0) -> bool:
    """One run of >= 2 sig-hot steps ending at the final step, none before, < 90 % hot."""
    hot = np.asarray(hot, bool)
    run = final_run(hot)
    return bool(run >= 2 and np.count_nonzero(hot) == run and not _at_least_90(hot))


def is_intensifying_hot(hot, cold, trend=0) -> bool:
    """>= 90 % of steps sig hot, the final one included, and a significant upward trend."""
    hot = np.asarray(hot, bool)
    return bool(hot[-1] and _at_least_90(hot) and trend > 0)


def is_persistent_hot(hot, cold, trend=0) -> bool:
    """>= 90 % of steps sig hot, the final one included, and no significant trend."""
    hot = np.asarray(hot, bool)
    return bool(hot[-1] and _at_least_90(hot) and trend == 0)


def is_diminishing_hot(hot, cold, trend=0) -> bool:
    """>= 90 % of steps sig hot, the final one included, and a significant downward trend."""
    hot = np.asarray(hot, bool)
    return bool(hot[-1] and _at_least_90(hot) and trend < 0)


def is_sporadic_hot(hot, cold, trend=0) -> bool:
    """Sig hot at the final step and before the final run too, < 90 % hot, never sig cold."""
    hot = np.asarray(hot, bool)
    on_and_off = np.count_nonzero(hot) > final_run(hot)
    return bool(hot[-1] and on_and_off and not _at_least_90(hot) and not np.any(cold))


def is_oscillating_hot(hot, cold, trend=0) -> bool:
    """Sig hot at the final step, sig cold at some earlier step, < 90 % hot."""
    hot = np.asarray(hot, bool)
    return bool(hot[-1] and np.any(np.asarray(cold, bool)[:-1]) and not _at_least_90(hot))


def is_historical_hot(hot, cold, trend=0) -> bool:
    """>= 90 % of steps sig hot, but not the final step (whatever the trend)."""
    hot = np.asarray(hot, bool)
    return bool(not hot[-1] and _at_least_90(hot))


def _mirror(rule: Callable, name: str) -> Callable:
    def cold_rule(hot, cold, trend=0) -> bool:
        return rule(cold, hot, -trend)

    cold_rule.__name__ = cold_rule.__qualname__ = name
    cold_rule.__doc__ = f"Cold mirror of `{rule.__name__}`: hot and cold swapped, trend reversed."
    return cold_rule


is_new_cold = _mirror(is_new_hot, "is_new_cold")
is_consecutive_cold = _mirror(is_consecutive_hot, "is_consecutive_cold")
is_intensifying_cold = _mirror(is_intensifying_hot, "is_intensifying_cold")
is_persistent_cold = _mirror(is_persistent_hot, "is_persistent_cold")
is_diminishing_cold = _mirror(is_diminishing_hot, "is_diminishing_cold")
is_sporadic_cold = _mirror(is_sporadic_hot, "is_sporadic_cold")
is_oscillating_cold = _mirror(is_oscillating_hot, "is_oscillating_cold")
is_historical_cold = _mirror(is_historical_hot, "is_historical_cold")

KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")
CATEGORIES = ("no pattern",) + tuple(f"{k} hot spot" for k in KINDS) + tuple(f"{k} cold spot" for k in KINDS)
RULES = {
    "new hot spot": is_new_hot, "consecutive hot spot": is_consecutive_hot,
    "intensifying hot spot": is_intensifying_hot, "persistent hot spot": is_persistent_hot,
    "diminishing hot spot": is_diminishing_hot, "sporadic hot spot": is_sporadic_hot,
    "oscillating hot spot": is_oscillating_hot, "historical hot spot": is_historical_hot,
    "new cold spot": is_new_cold, "consecutive cold spot": is_consecutive_cold,
    "intensifying cold spot": is_intensifying_cold, "persistent cold spot": is_persistent_cold,
    "diminishing cold spot": is_diminishing_cold, "sporadic cold spot": is_sporadic_cold,
    "oscillating cold spot": is_oscillating_cold, "historical cold spot": is_historical_cold,
}
_ORDER = ("intensifying", "persistent", "diminishing", "oscillating", "new", "consecutive", "sporadic")
PRECEDENCE = tuple(f"{k} {side} spot" for side in ("hot", "cold") for k in _ORDER) + (
    "historical hot spot", "historical cold spot")


def classify_cell(hot, cold, trend=0) -> str:
    """The category of one cell: the first rule of `PRECEDENCE` that holds, else 'no pattern'.

    >>> classify_cell([False] * 10 + [True] * 2, [False] * 12)
    'consecutive hot spot'
    """
    for name in PRECEDENCE:
        if RULES[name](hot, cold, trend):
            return name
    return "no pattern"


def classify(hot: np.ndarray, cold: np.ndarray, trend: np.ndarray) -> np.ndarray:
    """Category codes (indices into `CATEGORIES`) of many cells, equal to `classify_cell`.

    ``hot`` and ``cold`` have shape (cells, steps), ``trend`` shape (cells,).

    >>> hot = np.array([[False] * 11 + [True], [True] * 12])
    >>> [CATEGORIES[c] for c in classify(hot, np.zeros_like(hot), np.array([0, 1]))]
    ['new hot spot', 'intensifying hot spot']
    """
    hot, cold = np.asarray(hot, bool), np.asarray(cold, bool)
    trend = np.asarray(trend)
    tests = {**_side_tests(hot, cold, trend, "hot"), **_side_tests(cold, hot, -trend, "cold")}
    codes = np.select([tests[name] for name in PRECEDENCE], [CATEGORIES.index(n) for n in PRECEDENCE], 0)
    return codes.astype(np.int8)


def _side_tests(sig: np.ndarray, other: np.ndarray, trend: np.ndarray, side: str) -> dict[str, np.ndarray]:
    steps = sig.shape[1]
    count = np.count_nonzero(sig, axis=1)
    ge90 = 10 * count >= 9 * steps
    final = sig[:, -1]
    off = ~sig[:, ::-1]
    run = np.where(off.any(axis=1), off.argmax(axis=1), steps)
    recent = final & ~ge90
    return {
        f"new {side} spot": final & (count == 1),
        f"consecutive {side} spot": recent & (run >= 2) & (count == run),
        f"intensifying {side} spot": final & ge90 & (trend > 0),
        f"persistent {side} spot": final & ge90 & (trend == 0),
        f"diminishing {side} spot": final & ge90 & (trend < 0),
        f"sporadic {side} spot": recent & (count > run) & ~other.any(axis=1),
        f"oscillating {side} spot": recent & other[:, :-1].any(axis=1),
        f"historical {side} spot": ~final & ge90,
    }
