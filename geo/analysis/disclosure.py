"""Statistical disclosure control of the figures a mayor sees (DESIGN.md section 7, k = 3).

Why a threshold alone is not enough
-----------------------------------
Hiding every cell under 3 occurrences *of the requested period* does not protect
anything once periods can overlap: the mayor of Belfort could ask the cells of
``du=A&au=2026-11`` for the 24 values of ``A`` and of ``du=2024-12&au=B`` for the 24
values of ``B``; wherever two periods one month apart both showed a cell and its counts
differed by 1, a single event was located in one 200 m cell and one month (2,305
cell-months of the demo data). The monthly bars per category and the totals could be
subtracted from each other the same way.

The method: publish fixed atoms only, and sums of them
------------------------------------------------------
1. **One fixed partition of time**: calendar months (local time, Europe/Paris), and
   only finished months. The atoms of a month ``m`` are

   - ``A[c, m]``: occurrences of the commune in the 200 m cell ``c`` (all categories);
   - ``B[g, m]``: occurrences of the commune of category ``g``;
   - ``T[m]``: occurrences of the commune (``T = sum of A = sum of B``).

2. **Primary suppression** (``primary``): an atom is published only if it is at least
   ``k`` = 3. If ``T[m] < 3`` everything of the month is hidden (``month_publication``).

3. **Complementary suppression** (``complementary``), per month and per hierarchy
   (cells, categories): since ``T`` is published, the *hidden remainder*
   ``H = T - sum of the published children`` is known to the mayor; it must be 0 or at
   least ``k``. When it is 1 or 2, the smallest published child is hidden too (ties:
   the fixed order of the children, cells by ``(i, j)``, categories by code), so that
   the remainder becomes at least ``k + 1``. This also closes the cross attack "a
   cell's month total minus the published categories": if a month holds a single cell
   of 5 = 4 dealing + 1 rodeo, publishing the cell (5 = T) and dealing (4) would reveal
   the rodeo; the category remainder is 1, so dealing is hidden too. The suppression of
   a month depends on that month's data only, never on the requested period: two
   requests always see the same published atoms.

4. **Every figure shown is a sum of published atoms** (``period_sums``,
   ``monthly_values``): a cell over a period is the sum of its published months (shown
   when that sum is positive, hence at least 3); a monthly bar is ``B[g, m]`` or
   "masqué" (``None``; never 0, never a number); the month total is ``T[m]`` or
   "masqué"; page totals are sums of shown figures. Any linear combination of what a
   mayor can request (the difference of two periods, a period minus a category...) is
   therefore a combination of published atoms, each at least 3, plus remainders that
   are 0 or at least 3: no hidden atom can be recovered.

5. **Trends from published values only** (``published_trend``): the Mann-Kendall test
   runs on the subsequence of published months, and only when at least 8 of the 12
   are published ("trop peu de mois publiés" otherwise). A trend computed on hidden
   values would tell whether a hidden month was 0 or 2.

What this does not cover: occurrences loaded late into an already finished month
change that month's atoms, and a mayor comparing the page before and after such an
import can difference the two. Loaders should not back-fill finished months of a
commune, or the published atoms should be frozen (not done here).

The functions are pure (numpy and pandas only); ``geo.analysis.commune_figures`` fetches the atoms
with the named queries ``commune_cell_months`` and ``commune_category_months``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.analysis.hotspots.mann_kendall import mann_kendall

#: Smallest published count (statistical confidentiality of the mayor's figures).
MIN_COUNT = 3
#: Fewest published months (of 12) on which a trend is computed.
MIN_PUBLISHED_MONTHS = 8
#: Trend words: Mann-Kendall's +1 / -1 / 0, and too few published months.
TREND_UP, TREND_DOWN, TREND_FLAT, TREND_TOO_FEW = "hausse", "baisse", "stable", "insuffisant"


def primary(counts: Sequence[int] | np.ndarray, k: int = MIN_COUNT) -> np.ndarray:
    """Primary suppression: which atoms may be published (count at least ``k``).

    Parameters
    ----------
    counts : sequence of int
        The true counts of the atoms.
    k : int
        Smallest published count.

    Returns
    -------
    numpy.ndarray of bool
        True where the atom is published.

    Examples
    --------
    >>> primary([0, 1, 2, 3, 7]).tolist()
    [False, False, False, True, True]
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    return np.asarray(counts, dtype=np.int64) >= k


def hidden_remainder(total: int, counts: Sequence[int] | np.ndarray, published: Sequence[bool] | np.ndarray) -> int:
    """What a reader of the published figures can compute: the total minus the published children.

    Parameters
    ----------
    total : int
        The parent's count (the month total ``T``), published.
    counts : sequence of int
        The children's true counts.
    published : sequence of bool
        Which children are published.

    Returns
    -------
    int
        The sum of the hidden children.

    Examples
    --------
    >>> hidden_remainder(10, [5, 4, 1], [True, True, False])
    1
    """
    counts = np.asarray(counts, dtype=np.int64)
    return int(total - counts[np.asarray(published, dtype=bool)].sum())


def complementary(counts: Sequence[int] | np.ndarray, published: Sequence[bool] | np.ndarray, total: int,
                  k: int = MIN_COUNT) -> np.ndarray:
    """Complementary suppression: hide the smallest published children while the hidden remainder is 1 to ``k`` - 1.

    Parameters
    ----------
    counts : sequence of int
        The children's true counts, **in their fixed order** (cells by ``(i, j)``,
        categories by code): among equal counts, the first one is hidden.
    published : sequence of bool
        The children published so far (after ``primary``).
    total : int
        The parent's count, published (at least ``k``).
    k : int
        Smallest published count.

    Returns
    -------
    numpy.ndarray of bool
        The children still published; the remainder ``total - sum(published)`` is 0 or at
        least ``k``.

    Examples
    --------
    A remainder of 1 (5 + 4 published, 1 hidden): the smallest published child goes too.

    >>> complementary([5, 4, 1], [True, True, False], 10).tolist()
    [True, False, False]

    Ties go to the first child in the fixed order; a remainder of 0 or at least 3 is left alone.

    >>> complementary([4, 4, 2], [True, True, False], 10).tolist()
    [False, True, False]
    >>> complementary([4, 4, 0], [True, True, False], 8).tolist()
    [True, True, False]
    >>> complementary([4, 1, 2], [True, False, False], 7).tolist()
    [True, False, False]
    """
    counts = np.asarray(counts, dtype=np.int64)
    kept = np.array(published, dtype=bool, copy=True)
    if counts.shape != kept.shape:
        raise ValueError("counts and published must have the same length")
    while 0 < hidden_remainder(total, counts, kept) < k and kept.any():
        candidates = np.flatnonzero(kept)
        kept[candidates[np.argmin(counts[candidates])]] = False  # argmin: the first of equal counts
    return kept


def month_publication(counts: Sequence[int] | np.ndarray, k: int = MIN_COUNT) -> tuple[np.ndarray, bool]:
    """The whole rule for one month of one hierarchy (the children partition the month).

    Parameters
    ----------
    counts : sequence of int
        The true counts of the month's children in their fixed order; their sum is the
        month total ``T``.
    k : int
        Smallest published count.

    Returns
    -------
    (numpy.ndarray of bool, bool)
        Which children are published, and whether ``T`` is.

    Examples
    --------
    >>> published, total = month_publication([7, 5, 4, 1])
    >>> published.tolist(), total
    ([True, True, False, False], True)

    A month of fewer than ``k`` occurrences hides everything, its total too.

    >>> published, total = month_publication([1, 1])
    >>> published.tolist(), total
    ([False, False], False)
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total < k:
        return np.zeros(counts.shape, dtype=bool), False
    return complementary(counts, primary(counts, k), total, k), True


def publish(atoms: pd.DataFrame, keys: Sequence[str], k: int = MIN_COUNT) -> pd.DataFrame:
    """Apply ``month_publication`` to every month of a table of atoms.

    Parameters
    ----------
    atoms : DataFrame
        One row per non-empty atom: ``month``, the ``keys`` columns and ``n``; the atoms
        of a month partition its occurrences (every cell, or every category).
    keys : sequence of str
        The child's key columns (``["i", "j"]`` or ``["category"]``); they give the fixed
        order of the ties.
    k : int
        Smallest published count.

    Returns
    -------
    DataFrame
        The same rows sorted by month then keys, with a boolean column ``published``.

    Examples
    --------
    >>> atoms = pd.DataFrame({"month": ["2026-01"] * 3 + ["2026-02"] * 2, "category": list("abcab"),
    ...                       "n": [5, 4, 1, 1, 1]})
    >>> for row in publish(atoms, ["category"]).itertuples(index=False):
    ...     print(row.month, row.category, row.n, row.published)
    2026-01 a 5 True
    2026-01 b 4 False
    2026-01 c 1 False
    2026-02 a 1 False
    2026-02 b 1 False
    """
    keys = list(keys)
    frame = atoms.sort_values(["month", *keys], kind="stable").reset_index(drop=True)
    published = np.zeros(len(frame), dtype=bool)
    for rows in frame.groupby("month", sort=False).indices.values():
        published[rows] = month_publication(frame["n"].to_numpy()[rows], k)[0]
    return frame.assign(published=published)


def month_totals(atoms: pd.DataFrame, months: Sequence, k: int = MIN_COUNT) -> list[int | None]:
    """The published month totals ``T[m]`` of ``months`` (``None``: hidden, fewer than ``k``, or no occurrence).

    Examples
    --------
    >>> atoms = pd.DataFrame({"month": ["2026-01", "2026-01", "2026-02"], "n": [5, 1, 2]})
    >>> month_totals(atoms, ["2026-01", "2026-02", "2026-03"])
    [6, None, None]
    """
    totals = atoms.groupby("month")["n"].sum()
    return [int(totals[m]) if m in totals.index and totals[m] >= k else None for m in months]


def period_sums(published: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Each child's count over the period: the sum of its published months only; children summing to 0 left out.

    Parameters
    ----------
    published : DataFrame
        The output of ``publish`` restricted to the months of the period.
    keys : sequence of str
        The child's key columns.

    Returns
    -------
    DataFrame
        Columns ``keys`` and ``n``, sorted by keys; every ``n`` is at least ``k``.

    Examples
    --------
    >>> rows = pd.DataFrame({"month": [1, 1, 2, 2], "i": [0, 1, 0, 1], "j": [0, 0, 0, 0], "n": [4, 2, 3, 1],
    ...                      "published": [True, False, True, False]})
    >>> period_sums(rows, ["i", "j"]).values.tolist()
    [[0, 0, 7]]
    """
    keys = list(keys)
    shown = published[published["published"]]
    sums = shown.groupby(keys, as_index=False)["n"].sum()
    return sums[sums["n"] > 0].sort_values(keys).reset_index(drop=True)


def monthly_values(published: pd.DataFrame, key: str, months: Sequence) -> dict:
    """The bars of each child: its published count per month, ``None`` where masked (never 0).

    Children without any published month are left out (they cannot be told apart from
    children without any occurrence).

    Examples
    --------
    >>> rows = pd.DataFrame({"month": [1, 1, 2], "category": ["a", "b", "a"], "n": [4, 2, 3],
    ...                      "published": [True, False, True]})
    >>> monthly_values(rows, "category", [1, 2, 3])
    {'a': [4, 3, None]}
    """
    position = {m: index for index, m in enumerate(months)}
    values: dict = {}
    for row in published[published["published"]].itertuples(index=False):
        if row.month in position:
            values.setdefault(getattr(row, key), [None] * len(months))[position[row.month]] = int(row.n)
    return values


def published_trend(values: Sequence[int | None], min_published: int = MIN_PUBLISHED_MONTHS,
                    alpha: float = 0.05) -> str:
    """Mann-Kendall trend of the published months only (``None`` = masked, left out of the test).

    Parameters
    ----------
    values : sequence of int or None
        Monthly values, oldest first; ``None`` for a masked month.
    min_published : int
        Fewest published months needed; with fewer, ``'insuffisant'``.
    alpha : float
        Level of the two-sided test.

    Returns
    -------
    str
        ``'hausse'``, ``'baisse'``, ``'stable'`` or ``'insuffisant'``.

    Examples
    --------
    >>> published_trend([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]), published_trend([5] * 12)
    ('hausse', 'stable')
    >>> published_trend([14, 13, 12, None, 10, 9, 8, 7, 6, 5, 4, 3])
    'baisse'
    >>> published_trend([3, None, None, None, None, None, 9, 10, 11, 12, 13, 14])
    'insuffisant'
    """
    shown = [v for v in values if v is not None]
    if len(shown) < max(min_published, 3):
        return TREND_TOO_FEW
    trend = int(mann_kendall(np.asarray([shown], dtype=float), alpha=alpha).trend[0])
    return {1: TREND_UP, -1: TREND_DOWN, 0: TREND_FLAT}[trend]


__all__ = [
    "MIN_COUNT", "MIN_PUBLISHED_MONTHS", "TREND_DOWN", "TREND_FLAT", "TREND_TOO_FEW", "TREND_UP", "complementary",
    "hidden_remainder", "month_publication", "month_totals", "period_sums", "primary", "publish",
    "published_trend", "monthly_values",
]
