"""Aggregated figures of a commune (for its mayor) and of the sectors of a CSP (overview).

A mayor sees his commune only, and only aggregated figures that no combination of
requests can break down below k = 3 occurrences (DESIGN.md section 7). The method and
its reasoning are in ``geo.analysis.disclosure``; in short:

- the only figures ever computed are **atoms** of a fixed partition of time, the
  finished calendar months (local time): per month, the occurrences of each 200 m cell
  (anchored at the Lambert-93 origin: cell i = floor(x / size), j = floor(y / size)),
  of each category, and of the whole commune;
- an atom is **published** only if it holds at least 3 occurrences, and only if the
  month holds at least 3; when the hidden remainder of a month (its total minus its
  published cells, or minus its published categories) would be 1 or 2, the smallest
  published cell (or category) of that month is hidden too. A month's publication
  depends on that month's data only, never on the period asked;
- every figure shown is a **sum of published atoms**: a cell over a period is the sum
  of its published months (``cell_counts``: a cell whose sum is 0 is not returned at
  all and cannot be told apart from an empty cell); a monthly bar of a category, or of
  the commune, is its published atom or ``None`` ("masqué", never 0); totals are sums
  of shown figures; the Mann-Kendall trend of a series is computed on its published
  months only, and only when at least 8 of the 12 are published
  (``category_trends``, ``monthly_charts``). The difference of any two periods, or of a
  period and a category, is then a sum of published atoms too;
- periods are **whole calendar months** only (``month_period``): first and last month
  both included, at most 24 months, ending at the latest with the last finished month;
- the problems of the commune known to the GPO: title, category, status, dates and
  partner organisation only (never the description, never an occurrence).

The overview gives, per sector of a CSP, the occurrences of a period, the estimated
population (communes' population pro rata of the area covered, as
``geo.territory.lookup.sector_summaries``), the rate per 1,000 inhabitants and the trend of
the 12 monthly counts.

Days are local days (Europe/Paris); periods include their first and last day. The
overview (admins, référents, chiefs; never a mayor) takes a period to the day
(``day_period``).

Period rule of the mayor's page (``month_period``), with ``?du=`` and ``?au=``:

- ``du`` is the first month, ``au`` the last month, both included, written ``AAAA-MM``;
- a full date ``AAAA-MM-JJ`` is accepted only if it is a month boundary: the 1st of a
  month for ``du``, the last day of a month for ``au`` (anything else is refused, never
  rounded);
- at most 24 months; no month after the last finished one (the current month is
  incomplete, so it is refused too);
- ``au`` missing: the last finished month; ``du`` missing: the 12 months ending at
  ``au``; both missing: ``default_period()``, the last 12 full months.

A refused period raises ``PeriodError`` whose message is one French sentence naming
the fault.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from geo.analysis import disclosure
from geo.analysis.hotspots.mann_kendall import mann_kendall
from geo.db.queries import named_query
from geo.db.unit_of_work import connection
from geo.errors import PsqError
from geo.formats import day as fr_day
from geo.problems.categories import categories
from geo.problems.status import LABELS as STATUS_LABELS
from geo.settings import CELL_SIZE_M, DAYS_ACCEPTED, LOCAL_TZ, last_days, local_today
from geo.territory.projections import METROPOLITAN_SRID

#: Smallest published count of an atom (a cell-month, a category-month, a month) for a mayor.
MIN_CELL_COUNT = disclosure.MIN_COUNT
MONTHS = 12
#: Longest period of the mayor's page, in whole months.
MAX_PERIOD_MONTHS = 24
TREND_WORDS = {1: "hausse", -1: "baisse", 0: "stable"}
#: Trend word of a mayor's series with too few published months (``disclosure.MIN_PUBLISHED_MONTHS``).
TREND_TOO_FEW = disclosure.TREND_TOO_FEW
#: Code, label and colour of the chart of the whole commune's monthly totals.
ALL_CATEGORIES = ("ensemble", "Ensemble des faits", "#334155")
MONTH_ABBR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One grid cell: its indices, its count and its square as a GeoJSON geometry (lon/lat)."""

    i: int
    j: int
    count: int
    geometry: dict


@dataclasses.dataclass(frozen=True)
class CategoryTrend:
    """Published monthly counts of one category, or of the whole commune (oldest month first), and their trend.

    A count is ``None`` where the month is masked (fewer than 3 occurrences, or hidden
    by the complementary suppression): never 0, never a number.
    """

    code: str
    label: str
    colour: str
    months: tuple[dt.date, ...]
    counts: tuple[int | None, ...]
    trend: str  # hausse, baisse, stable, insuffisant

    @property
    def total(self) -> int:
        """The sum of the published months."""
        return sum(c for c in self.counts if c is not None)

    @property
    def published_months(self) -> int:
        return sum(c is not None for c in self.counts)


@dataclasses.dataclass(frozen=True)
class PeriodFigures:
    """What the mayor's map shows for a whole-month period: cells and month totals, all sums of published atoms."""

    first: dt.date
    last: dt.date
    months: tuple[dt.date, ...]
    cells: list[Cell]
    month_totals: tuple[int | None, ...]  # T[m] when published, else None

    @property
    def total(self) -> int:
        """Occurrences of the commune over the published months of the period."""
        return sum(t for t in self.month_totals if t is not None)

    @property
    def cells_total(self) -> int:
        return sum(c.count for c in self.cells)


@dataclasses.dataclass(frozen=True)
class ProblemLine:
    """A problem as a mayor may see it: no description, no place beyond the commune."""

    title: str
    category: str  # French label
    status: str  # French label
    reported_on: dt.date
    status_changed_on: dt.date | None
    partner: str | None


@dataclasses.dataclass(frozen=True)
class SectorRate:
    """Occurrences of a sector over a period, per 1,000 inhabitants, and its monthly trend."""

    code: str
    name: str
    occurrences: int
    population: int
    rate: float | None  # per 1,000 inhabitants; None without population
    counts: tuple[int, ...]
    trend: str


# -- periods -----------------------------------------------------------------------
def month_start(day: dt.date, shift: int = 0) -> dt.date:
    """The first day of the month of ``day``, moved by ``shift`` months.

    >>> month_start(dt.date(2026, 1, 20), -2)
    datetime.date(2025, 11, 1)
    """
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def full_months(last: dt.date, n: int = MONTHS) -> tuple[dt.date, ...]:
    """The first days of the ``n`` full months ending on or before ``last``.

    The month of ``last`` counts only when ``last`` is its last day.

    >>> [m.isoformat() for m in full_months(dt.date(2026, 11, 22), 3)]
    ['2026-08-01', '2026-09-01', '2026-10-01']
    >>> full_months(dt.date(2026, 10, 31), 1)
    (datetime.date(2026, 10, 1),)
    """
    end = month_start(last + dt.timedelta(days=1))  # first day after the last full month
    return tuple(month_start(end, k - n) for k in range(n))


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last 12 full months before ``today``: (first day, last day).

    >>> default_period(dt.date(2026, 11, 22))
    (datetime.date(2025, 11, 1), datetime.date(2026, 10, 31))
    """
    months = full_months(month_start(today or local_today()) - dt.timedelta(days=1))
    return months[0], month_start(months[-1], 1) - dt.timedelta(days=1)


class PeriodError(PsqError, ValueError):
    """A period given wrongly; the message is one French sentence naming the fault."""


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_end(month: dt.date) -> dt.date:
    """The last day of the month of ``month``.

    >>> month_end(dt.date(2028, 2, 10))
    datetime.date(2028, 2, 29)
    """
    return month_start(month, 1) - dt.timedelta(days=1)


def _months_between(first: dt.date, last: dt.date) -> int:
    """Number of months from the month of ``first`` to the month of ``last``, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _accepted(day: dt.date, name: str) -> dt.date:
    """``day`` if it falls in geo.settings.DAYS_ACCEPTED, else a PeriodError.

    >>> _accepted(dt.date(1, 1, 5), "au")
    Traceback (most recent call last):
    ...
    geo.analysis.commune_figures.PeriodError: « au » (05/01/0001) est hors des années 1990 à 2100.
    """
    first, last = DAYS_ACCEPTED
    if not first <= day <= last:
        raise PeriodError(f"« {name} » ({fr_day(day)}) est hors des années "
                          f"{first.year} à {last.year}.")
    return day


def _parse_day(text: str, name: str) -> dt.date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"La date « {name} » = « {text} » n'est pas une date valide "
                          "(format attendu : AAAA-MM-JJ).") from None
    return _accepted(day, name)


def _parse_month(text: str, name: str) -> dt.date:
    """The first day of the month ``text`` designates (``AAAA-MM`` or a month boundary)."""
    text = text.strip()
    whole = _MONTH.fullmatch(text)
    if whole:
        try:
            month = dt.date(int(whole.group(1)), int(whole.group(2)), 1)
        except ValueError:
            pass
        else:
            return _accepted(month, name)
    elif _DAY.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if name == "du" and day.day != 1:
                raise PeriodError(f"La période se compte en mois entiers : « du » doit être un mois (AAAA-MM) ou "
                                  f"le 1er d'un mois, et non le {day:%d/%m/%Y}.")
            if name == "au" and day != month_end(day):
                raise PeriodError(f"La période se compte en mois entiers : « au » doit être un mois (AAAA-MM) ou "
                                  f"le dernier jour d'un mois, et non le {day:%d/%m/%Y}.")
            return _accepted(month_start(day), name)
    raise PeriodError(f"« {name} » = « {text} » n'est pas un mois valide (format attendu : AAAA-MM).")


def month_period(du: str | None, au: str | None, today: dt.date | None = None,
                 max_months: int = MAX_PERIOD_MONTHS) -> tuple[dt.date, dt.date]:
    """The whole-month period of the mayor's page: (first day of ``du``, last day of ``au``).

    See the module's docstring for the rule; empty or None values take the defaults.

    >>> month_period("2026-01", "2026-06", today=dt.date(2026, 11, 22))
    (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30))
    >>> month_period("2026-01-01", "2026-06-30", today=dt.date(2026, 11, 22))
    (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30))
    >>> month_period(None, None, today=dt.date(2026, 11, 22)) == default_period(dt.date(2026, 11, 22))
    True
    >>> month_period(None, "2026-03", today=dt.date(2026, 11, 22))
    (datetime.date(2025, 4, 1), datetime.date(2026, 3, 31))
    >>> month_period("2026-01-02", "2026-06-30", today=dt.date(2026, 11, 22))
    Traceback (most recent call last):
    ...
    geo.analysis.commune_figures.PeriodError: La période se compte en mois entiers : « du » doit être un mois (AAAA-MM) ou le 1er d'un mois, et non le 02/01/2026.
    >>> month_period("2026-01", "2026-11", today=dt.date(2026, 11, 22))
    Traceback (most recent call last):
    ...
    geo.analysis.commune_figures.PeriodError: La période s'arrête au plus tard au dernier mois terminé (oct. 2026) : nov. 2026 n'est pas terminé.
    """
    last_full = month_start(today or local_today(), -1)
    first = _parse_month(du, "du") if du else None
    last = _parse_month(au, "au") if au else last_full
    first = first or month_start(last, 1 - MONTHS)
    for month in (first, last):
        if month > last_full:
            raise PeriodError(f"La période s'arrête au plus tard au dernier mois terminé ({month_label(last_full)}) : "
                              f"{month_label(month)} n'est pas terminé.")
    if first > last:
        raise PeriodError(f"Le premier mois de la période ({month_label(first)}) vient après son dernier mois "
                          f"({month_label(last)}).")
    if _months_between(first, last) > max_months:
        raise PeriodError(f"La période couvre {_months_between(first, last)} mois, de {month_label(first)} à "
                          f"{month_label(last)}, mais elle ne peut dépasser {max_months} mois.")
    return first, month_end(last)


def day_period(du: str | None, au: str | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """A period to the day (``AAAA-MM-JJ``), for the overview only (never for a mayor).

    Empty or None values take those of every page's default, the 365 days ending yesterday
    (geo.settings.last_days).

    >>> day_period("2026-01-02", "2026-06-30")
    (datetime.date(2026, 1, 2), datetime.date(2026, 6, 30))
    >>> day_period("2026-07-01", "2026-06-30")
    Traceback (most recent call last):
    ...
    geo.analysis.commune_figures.PeriodError: La date « du » doit précéder la date « au ».
    """
    first, last = last_days(today=today)
    first = _parse_day(du.strip(), "du") if du else first
    last = _parse_day(au.strip(), "au") if au else last
    if first > last:
        raise PeriodError("La date « du » doit précéder la date « au ».")
    return first, last


def month_label(month: dt.date) -> str:
    """French short label of a month.

    >>> month_label(dt.date(2026, 2, 1))
    'févr. 2026'
    """
    return f"{MONTH_ABBR[month.month - 1]} {month.year}"


def trend_words(series: list[list[int]] | np.ndarray) -> list[str]:
    """Mann-Kendall trend (alpha 0.05) of each series: 'hausse', 'baisse' or 'stable'.

    >>> trend_words([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [5] * 12, list(range(12, 0, -1))])
    ['hausse', 'stable', 'baisse']
    """
    x = np.asarray(series, float)
    if x.size == 0:
        return []
    return [TREND_WORDS[int(t)] for t in mann_kendall(x.reshape(len(x), -1)).trend]


# -- the commune -------------------------------------------------------------------
def commune_outline(engine: Engine, insee: str) -> gpd.GeoDataFrame:
    """The commune's row (``insee``, ``name``, ``population``, geometry in Lambert-93); empty if unknown.

    >>> len(commune_outline(engine, "90010"))
    0
    """
    with connection(engine) as conn:
        return gpd.read_postgis(named_query("commune_outline"), conn, geom_col="geom", params={"insee": insee},
                                crs=METROPOLITAN_SRID).rename_geometry("geometry")


def whole_months(first: dt.date, last: dt.date, today: dt.date | None = None) -> tuple[dt.date, ...]:
    """The months of a period of whole finished months (their first days); ``ValueError`` otherwise.

    The mayor's figures are sums of monthly atoms: a period must start on the 1st of a
    month, end on the last day of a month, and end before the current month.

    >>> [m.isoformat() for m in whole_months(dt.date(2026, 1, 1), dt.date(2026, 3, 31), today=dt.date(2026, 12, 1))]
    ['2026-01-01', '2026-02-01', '2026-03-01']
    >>> whole_months(dt.date(2026, 1, 2), dt.date(2026, 3, 31))
    Traceback (most recent call last):
    ...
    ValueError: the period must be whole months: 2026-01-02 to 2026-03-31
    >>> whole_months(dt.date(2026, 11, 1), dt.date(2026, 11, 30), today=dt.date(2026, 11, 30))
    Traceback (most recent call last):
    ...
    ValueError: the period must end with a finished month: 2026-11-30
    """
    if first.day != 1 or last != month_end(last) or first > last:
        raise ValueError(f"the period must be whole months: {first} to {last}")
    if last >= month_start(today or local_today()):
        raise ValueError(f"the period must end with a finished month: {last}")
    return tuple(month_start(first, k) for k in range(_months_between(first, last)))


def cell_month_atoms(engine: Engine, insee: str, first: dt.date, last: dt.date,
                     size: float = CELL_SIZE_M) -> pd.DataFrame:
    """The true counts ``A[c, m]`` of the commune per month and cell (query ``commune_cell_months``); never shown.

    Returns
    -------
    DataFrame
        Columns ``month`` (first day), ``i``, ``j``, ``n``; non-empty cell-months only.

    Examples
    --------
    >>> cell_month_atoms(engine, "90010", dt.date(2026, 1, 1), dt.date(2026, 6, 30)).columns.tolist()
    ['month', 'i', 'j', 'n']
    """
    params = {"insee": insee, "first": first, "stop": last + dt.timedelta(days=1), "size": float(size),
              "tz": LOCAL_TZ}
    with connection(engine) as conn:
        rows = conn.execute(named_query("commune_cell_months"), params).all()
    return pd.DataFrame([(r.month, int(r.i), int(r.j), int(r.n)) for r in rows], columns=["month", "i", "j", "n"])


def category_month_atoms(engine: Engine, insee: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The true counts ``B[g, m]`` of the commune per month and category (query ``commune_category_months``).

    Returns
    -------
    DataFrame
        Columns ``month`` (first day), ``category``, ``n``; non-empty category-months only.

    Examples
    --------
    >>> category_month_atoms(engine, "90010", dt.date(2026, 1, 1), dt.date(2026, 6, 30)).columns.tolist()
    ['month', 'category', 'n']
    """
    params = {"insee": insee, "first": first, "stop": last + dt.timedelta(days=1), "tz": LOCAL_TZ}
    with connection(engine) as conn:
        rows = conn.execute(named_query("commune_category_months"), params).all()
    return pd.DataFrame([(r.month, r.category, int(r.n)) for r in rows], columns=["month", "category", "n"])


def period_figures(engine: Engine, insee: str, first: dt.date, last: dt.date, *, k: int = MIN_CELL_COUNT,
                   size: float = CELL_SIZE_M) -> PeriodFigures:
    """The cells and month totals of a whole-month period, as sums of published atoms only.

    Parameters
    ----------
    insee : str
        INSEE code of the commune (occurrences attributed to it at import).
    first, last : date
        The 1st of the first month and the last day of the last month (finished).
    k : int
        Smallest published atom (default 3); ``k = 1`` gives the true counts.
    size : float
        Cell side in metres, cells anchored at the Lambert-93 origin.

    Returns
    -------
    PeriodFigures
        ``cells``: each cell's sum of its published months, cells summing to 0 left out;
        ``month_totals``: each month's total when published.

    Examples
    --------
    >>> figures = period_figures(engine, "90010", dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    >>> figures.cells, figures.month_totals, figures.total
    ([], (None, None, None, None, None, None), 0)
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    months = whole_months(first, last)
    atoms = cell_month_atoms(engine, insee, first, last, size)
    sums = disclosure.period_sums(disclosure.publish(atoms, ["i", "j"], k), ["i", "j"])
    cells = []
    if len(sums):
        with connection(engine) as conn:
            shapes = conn.execute(named_query("commune_cell_shapes"), {
                "i": [int(i) for i in sums["i"]], "j": [int(j) for j in sums["j"]], "size": float(size)}).all()
        cells = [Cell(int(r.i), int(r.j), int(n), json.loads(r.geojson)) for r, n in zip(shapes, sums["n"])]
    return PeriodFigures(first, last, months, cells, tuple(disclosure.month_totals(atoms, months, k)))


def cell_counts(engine: Engine, insee: str, first: dt.date, last: dt.date, *, k: int = MIN_CELL_COUNT,
                size: float = CELL_SIZE_M) -> list[Cell]:
    """Occurrences of the commune by grid cell over a whole-month period: the sum of each cell's published months.

    A cell-month is published when it holds at least ``k`` occurrences and the
    complementary suppression of its month leaves it (``geo.analysis.disclosure``); a cell whose
    published months sum to 0 is not returned at all. See ``period_figures``.

    Examples
    --------
    >>> cell_counts(engine, "90010", dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    []
    """
    return period_figures(engine, insee, first, last, k=k, size=size).cells


def cells_geojson(cells: list[Cell]) -> dict:
    """A GeoJSON FeatureCollection of the cells (properties ``cell`` and ``count``).

    >>> cells_geojson([Cell(1, 2, 4, {"type": "Polygon", "coordinates": []})])["features"][0]["properties"]
    {'cell': '1_2', 'count': 4}
    """
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"cell": f"{c.i}_{c.j}", "count": c.count}, "geometry": c.geometry}
        for c in cells
    ]}


def monthly_charts(engine: Engine, insee: str, last: dt.date, n: int = MONTHS, *,
                   k: int = MIN_CELL_COUNT) -> tuple[CategoryTrend, list[CategoryTrend]]:
    """The monthly bars of the commune's page over the ``n`` full months up to ``last``: published atoms only.

    Returns
    -------
    (CategoryTrend, list of CategoryTrend)
        The whole commune's month totals ``T[m]`` (code ``ensemble``), and one series
        per category with at least one published month, in the order of
        ``geo.problems.categories``. Masked months are ``None``; each trend is computed on the
        published months only (``disclosure.published_trend``).

    Examples
    --------
    >>> total, per_category = monthly_charts(engine, "90010", dt.date(2026, 10, 31))
    >>> total.counts == (None,) * 12, total.trend, per_category
    (True, 'insuffisant', [])
    """
    months = full_months(last, n)
    atoms = category_month_atoms(engine, insee, months[0], month_end(months[-1]))
    totals = tuple(disclosure.month_totals(atoms, months, k))
    code, label, colour = ALL_CATEGORIES
    total = CategoryTrend(code, label, colour, months, totals, disclosure.published_trend(totals))
    values = disclosure.monthly_values(disclosure.publish(atoms, ["category"], k), "category", months)
    per_category = [CategoryTrend(c.code, c.label, c.colour, months, tuple(values[c.code]),
                                  disclosure.published_trend(values[c.code]))
                    for c in categories() if c.code in values]
    return total, per_category


def category_trends(engine: Engine, insee: str, last: dt.date, n: int = MONTHS) -> list[CategoryTrend]:
    """Published monthly counts of each category over the ``n`` full months up to ``last`` (see ``monthly_charts``).

    Examples
    --------
    >>> category_trends(engine, "90010", dt.date(2026, 10, 31))
    []
    """
    return monthly_charts(engine, insee, last, n)[1]


def _monthly_table(rows, key: str, months: tuple[dt.date, ...]) -> dict[str, list[int]]:
    position = {m: i for i, m in enumerate(months)}
    table: dict[str, list[int]] = {}
    for row in rows:
        table.setdefault(getattr(row, key), [0] * len(months))[position[row.month]] = int(row.n)
    return table


def commune_problems(engine: Engine, insee: str) -> list[ProblemLine]:
    """The problems of the commune, open ones first, without description.

    Examples
    --------
    >>> commune_problems(engine, "90010")
    []
    """
    labels = {c.code: c.label for c in categories()}
    with connection(engine) as conn:
        rows = conn.execute(named_query("commune_problems"), {"insee": insee, "tz": LOCAL_TZ}).all()
    return [ProblemLine(r.title, labels.get(r.category, r.category), STATUS_LABELS.get(r.status, r.status),
                        r.reported_on, r.status_changed_on, r.partner) for r in rows]


# -- the overview of a CSP -----------------------------------------------------------
def rate_per_1000(occurrences: int, population: int) -> float | None:
    """Occurrences per 1,000 inhabitants; None when the population is unknown or zero.

    >>> rate_per_1000(30, 12000), rate_per_1000(5, 0)
    (2.5, None)
    """
    return 1000.0 * occurrences / population if population else None


def sector_rates(engine: Engine, csp: str, first: dt.date, last: dt.date,
                 day: dt.date | None = None) -> tuple[list[SectorRate], gpd.GeoDataFrame]:
    """Per sector of the CSP (as drawn on ``day``, default ``last``): rate and trend.

    The trend is the Mann-Kendall test of the 12 monthly counts of the full months up
    to ``last``. Returns the rates and the sectors' geometries (Lambert-93, columns
    ``code``, ``name``, ``rate``, ``occurrences``, ``population``).

    Examples
    --------
    >>> rates, shapes = sector_rates(engine, "CSP Belfort", dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    >>> rates, len(shapes)
    ([], 0)
    """
    params = {"csp": csp, "day": day or last, "first": first, "last": last, "tz": LOCAL_TZ}
    months = full_months(last)
    with connection(engine) as conn:
        shapes = gpd.read_postgis(named_query("sector_rates"), conn, geom_col="geom", params=params,
                                  crs=METROPOLITAN_SRID).rename_geometry("geometry")
        monthly = conn.execute(named_query("sector_monthly"), {
            "csp": csp, "first": months[0], "stop": month_start(months[-1], 1), "tz": LOCAL_TZ}).all()
    table = _monthly_table(monthly, "code", months)
    series = [table.get(code, [0] * len(months)) for code in shapes.code]
    words = trend_words(series)
    rates = [SectorRate(r.code, r.name, int(r.occurrences), int(r.population),
                        rate_per_1000(int(r.occurrences), int(r.population)), tuple(s), w)
             for r, s, w in zip(shapes.itertuples(), series, words)]
    shapes["rate"] = [r.rate for r in rates]
    shapes["trend"] = [r.trend for r in rates]
    return rates, shapes


__all__ = [
    "ALL_CATEGORIES", "CELL_SIZE_M", "MAX_PERIOD_MONTHS", "MIN_CELL_COUNT", "TREND_TOO_FEW", "CategoryTrend", "Cell",
    "PeriodError", "PeriodFigures", "ProblemLine", "SectorRate", "category_month_atoms", "category_trends",
    "cell_counts", "cell_month_atoms", "cells_geojson", "commune_outline", "commune_problems", "day_period",
    "default_period", "full_months", "month_end", "month_label", "month_period", "month_start", "monthly_charts",
    "period_figures", "rate_per_1000", "sector_rates", "trend_words", "whole_months",
]
