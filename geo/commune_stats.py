"""Aggregated figures of a commune (for its mayor) and of the sectors of a CSP (overview).

A mayor sees his commune only, and only aggregated figures (DESIGN.md section 7):

- occurrences counted by square cell of 200 m anchored at the Lambert-93 origin
  (cell i = floor(x / size), j = floor(y / size)); a cell with fewer than ``k`` = 3
  occurrences in the period is **not returned at all** (neither its count nor its
  place): it cannot be told apart from an empty cell;
- the cells are counted over a period of **whole calendar months** only
  (``month_period``): first and last month both included, at most 24 months, ending
  at the latest with the last finished month. A period given to the day would let a
  mayor subtract two periods one day apart and isolate single occurrences in a cell
  (a differencing attack defeating k = 3); months keep every difference a whole month;
- monthly counts per category over the last 12 full months, with the Mann-Kendall
  trend of each series (en hausse / en baisse / stable);
- the problems of the commune known to the GPO: title, category, status, dates and
  partner organisation only (never the description, never an occurrence).

The overview gives, per sector of a CSP, the occurrences of a period, the estimated
population (communes' population pro rata of the area covered, as
``geo.territory.sector_summaries``), the rate per 1,000 inhabitants and the trend of
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
from sqlalchemy.engine import Engine

from geo.categories import categories
from geo.hotspots.mann_kendall import mann_kendall
from geo.problem_status import LABELS as STATUS_LABELS
from geo.projections import METROPOLITAN_SRID
from geo.queries import named_query

LOCAL_TZ = "Europe/Paris"
#: Smallest count of a cell shown to a mayor (statistical confidentiality).
MIN_CELL_COUNT = 3
CELL_SIZE_M = 200.0
MONTHS = 12
#: Longest period of the mayor's page, in whole months.
MAX_PERIOD_MONTHS = 24
TREND_WORDS = {1: "hausse", -1: "baisse", 0: "stable"}
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
    """Monthly counts of one category (oldest month first) and their trend word."""

    code: str
    label: str
    colour: str
    months: tuple[dt.date, ...]
    counts: tuple[int, ...]
    trend: str  # hausse, baisse, stable

    @property
    def total(self) -> int:
        return sum(self.counts)


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
    months = full_months(month_start(today or dt.date.today()) - dt.timedelta(days=1))
    return months[0], month_start(months[-1], 1) - dt.timedelta(days=1)


class PeriodError(ValueError):
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


def _parse_day(text: str, name: str) -> dt.date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"La date « {name} » = « {text} » n'est pas une date valide "
                          "(format attendu : AAAA-MM-JJ).") from None


def _parse_month(text: str, name: str) -> dt.date:
    """The first day of the month ``text`` designates (``AAAA-MM`` or a month boundary)."""
    text = text.strip()
    whole = _MONTH.fullmatch(text)
    if whole:
        try:
            return dt.date(int(whole.group(1)), int(whole.group(2)), 1)
        except ValueError:
            pass
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
            return month_start(day)
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
    geo.commune_stats.PeriodError: La période se compte en mois entiers : « du » doit être un mois (AAAA-MM) ou le 1er d'un mois, et non le 02/01/2026.
    >>> month_period("2026-01", "2026-11", today=dt.date(2026, 11, 22))
    Traceback (most recent call last):
    ...
    geo.commune_stats.PeriodError: La période s'arrête au plus tard au dernier mois terminé (oct. 2026) : nov. 2026 n'est pas terminé.
    """
    last_full = month_start(today or dt.date.today(), -1)
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

    Empty or None values take those of ``default_period``.

    >>> day_period("2026-01-02", "2026-06-30")
    (datetime.date(2026, 1, 2), datetime.date(2026, 6, 30))
    >>> day_period("2026-07-01", "2026-06-30")
    Traceback (most recent call last):
    ...
    geo.commune_stats.PeriodError: La date « du » doit précéder la date « au ».
    """
    first, last = default_period(today)
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
    with engine.connect() as conn:
        return gpd.read_postgis(named_query("commune_outline"), conn, geom_col="geom", params={"insee": insee},
                                crs=METROPOLITAN_SRID).rename_geometry("geometry")


def cell_counts(engine: Engine, insee: str, first: dt.date, last: dt.date, *, k: int = MIN_CELL_COUNT,
                size: float = CELL_SIZE_M) -> list[Cell]:
    """Occurrences of the commune by grid cell, cells under ``k`` occurrences left out.

    Parameters
    ----------
    insee : str
        INSEE code of the commune (occurrences attributed to it at import).
    first, last : date
        Local days, both included.
    k : int
        Smallest count returned (default 3). Smaller cells are suppressed entirely.
    size : float
        Cell side in metres, cells anchored at the Lambert-93 origin.

    Examples
    --------
    >>> cell_counts(engine, "90010", dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    []
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    params = {"insee": insee, "first": first, "last": last, "size": float(size), "k": int(k), "tz": LOCAL_TZ}
    with engine.connect() as conn:
        rows = conn.execute(named_query("commune_cells"), params).all()
    return [Cell(int(r.i), int(r.j), int(r.n), json.loads(r.geojson)) for r in rows]


def cells_geojson(cells: list[Cell]) -> dict:
    """A GeoJSON FeatureCollection of the cells (properties ``cell`` and ``count``).

    >>> cells_geojson([Cell(1, 2, 4, {"type": "Polygon", "coordinates": []})])["features"][0]["properties"]
    {'cell': '1_2', 'count': 4}
    """
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"cell": f"{c.i}_{c.j}", "count": c.count}, "geometry": c.geometry}
        for c in cells
    ]}


def category_trends(engine: Engine, insee: str, last: dt.date, n: int = MONTHS) -> list[CategoryTrend]:
    """Monthly counts of each category with data over the ``n`` full months up to ``last``.

    Examples
    --------
    >>> category_trends(engine, "90010", dt.date(2026, 10, 31))
    []
    """
    months = full_months(last, n)
    params = {"insee": insee, "first": months[0], "stop": month_start(months[-1], 1), "tz": LOCAL_TZ}
    with engine.connect() as conn:
        rows = conn.execute(named_query("commune_monthly"), params).all()
    counts = _monthly_table(rows, "category", months)
    known = [c for c in categories() if c.code in counts]
    words = trend_words([counts[c.code] for c in known])
    return [CategoryTrend(c.code, c.label, c.colour, months, tuple(counts[c.code]), w) for c, w in zip(known, words)]


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
    with engine.connect() as conn:
        rows = conn.execute(named_query("commune_problems"), {"insee": insee}).all()
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
    with engine.connect() as conn:
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
    "CELL_SIZE_M", "MAX_PERIOD_MONTHS", "MIN_CELL_COUNT", "CategoryTrend", "Cell", "PeriodError", "ProblemLine",
    "SectorRate", "category_trends", "cell_counts", "cells_geojson", "commune_outline", "commune_problems",
    "day_period", "default_period", "full_months", "month_end", "month_label", "month_period", "month_start",
    "rate_per_1000", "sector_rates", "trend_words",
]
