"""The figures of the GPOs, as the ministry publishes them: per sector and period, the meetings held and the
problems raised, resolved and still open, by category; rolled up per CSP and over everything the user sees.

Over a period of local days ``[first, last]`` (both included):

- **meetings**: the meetings held in the period by the GPOs covering the sector (``gpo_sector``); a thematic
  GPO's meeting counts once in each of its sectors, and once in its CSP's and in the grand total (the rollups
  count distinct meetings, never the sum of the sectors'). Meetings have no category;
- **raised**: the problems reported in the period (``problem.reported_on``);
- **resolved**: the problems moved to ``resolu`` in the period (``problem_status_change``, local days); a
  problem resolved, reopened and resolved again in the period counts once;
- **open**: the problems reported on or before ``last`` whose last status as of the end of ``last`` (the
  status trail) is not ``resolu``: a reopened problem is open again.

A problem counts in the sector of its attribution (``problem.sector_id``); one outside every sector counts in
a line « Hors secteur » of its CSP. Every count is clipped to the scope in SQL: admin and référent everything;
a chief his sectors' problems and his GPOs' meetings in his sectors; a mayor his commune's problems and the
meetings of the GPOs covering it (:func:`geo.gpo.groups.visible_gpo_sql`), in the sectors that share a cell
with his commune; a partner nothing (the policy refuses him ``figures.view``). The row-level security of the
request's connection is the second lock.

Examples
--------
>>> parse_period("2026-01-01", "2026-03-31")
(datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
>>> parse_period(None, None, today=dt.date(2026, 11, 22))
(datetime.date(2026, 1, 1), datetime.date(2026, 11, 22))
>>> parse_period(None, "2025-06-30", today=dt.date(2026, 11, 22))
(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30))
>>> parse_period("2020-01-01", "2025-01-01")
Traceback (most recent call last):
...
geo.gpo.figures.FiguresError: La période du 01/01/2020 au 01/01/2025 dépasse 5 ans.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection
from geo.errors import PsqError
from geo.formats import day as fr_day
from geo.gpo.groups import scope_params, visible_gpo_sql
from geo.problems.categories import categories
from geo.settings import DAYS_ACCEPTED, LOCAL_TZ, local_today

if TYPE_CHECKING:  # the scope's type only (geo.accounts' policy asks geo.gpo: no import circle)
    from geo.accounts.users import UserScope

#: The longest period the figures cover.
MAX_YEARS = 5
OUTSIDE_SECTORS = "Hors secteur"
OUTSIDE_CSPS = "Hors circonscription"


class FiguresError(PsqError, ValueError):
    """A period of the figures given wrongly (400, one French sentence)."""


# -- the period -------------------------------------------------------------------------------------------
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(text: str, name: str) -> dt.date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise FiguresError(f"La date « {name} » = « {text} » n'est pas une date valide "
                           "(format attendu : AAAA-MM-JJ).") from None
    if not DAYS_ACCEPTED[0] <= day <= DAYS_ACCEPTED[1]:
        raise FiguresError(f"La date « {name} » ({fr_day(day)}) est hors des années {DAYS_ACCEPTED[0].year} "
                           f"à {DAYS_ACCEPTED[1].year}.")
    return day


def parse_period(du: str | None, au: str | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period of ``?du=&au=`` (``AAAA-MM-JJ``, both included); by default the calendar year to date
    (``au``: today; ``du``: the 1st of January of ``au``'s year). Refused in one French sentence."""
    last = _day(au.strip(), "au") if (au or "").strip() else (today or local_today())
    first = _day(du.strip(), "du") if (du or "").strip() else last.replace(month=1, day=1)
    check_period(first, last)
    return first, last


def check_period(first: dt.date, last: dt.date) -> None:
    """FiguresError unless ``first <= last`` and the period spans at most MAX_YEARS years.

    >>> check_period(dt.date(2021, 1, 1), dt.date(2025, 12, 31))
    >>> check_period(dt.date(2026, 2, 1), dt.date(2026, 1, 31))
    Traceback (most recent call last):
    ...
    geo.gpo.figures.FiguresError: La période commence le 01/02/2026, après sa fin le 31/01/2026.
    """
    if first > last:
        raise FiguresError(f"La période commence le {fr_day(first)}, après sa fin le {fr_day(last)}.")
    if last >= first + relativedelta(years=MAX_YEARS):
        raise FiguresError(f"La période du {fr_day(first)} au {fr_day(last)} dépasse {MAX_YEARS} ans.")


# -- the figures ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CategoryLine:
    """The problems of one category in a line."""

    code: str
    label: str
    raised: int
    resolved: int
    open: int


@dataclasses.dataclass(frozen=True)
class Line:
    """A sector (``sector_code`` set), a CSP's rollup (``sector_code`` None, ``is_rollup``) or the grand total
    (``csp_id`` None too): its meetings, its problems and their breakdown by category (file order)."""

    csp_id: int | None
    csp_name: str
    sector_code: str | None
    sector_name: str
    meetings: int
    raised: int
    resolved: int
    open: int
    categories: tuple[CategoryLine, ...]


@dataclasses.dataclass(frozen=True)
class Figures:
    """The figures of a period: sector lines by CSP and code, a rollup per CSP, the grand total."""

    first: dt.date
    last: dt.date
    sectors: tuple[Line, ...]
    csps: tuple[Line, ...]
    total: Line

    def sectors_of(self, csp: Line) -> tuple[Line, ...]:
        """The sector lines of a CSP's rollup."""
        return tuple(s for s in self.sectors if s.csp_id == csp.csp_id)


#: The sectors the scope sees (csp_id, code), in force some day of the period.
_SEEN = """
    SELECT DISTINCT s.csp_id, s.code FROM sector s
    WHERE s.valid_during && daterange(:first, :last, '[]')
      AND (CAST(:role AS text) IN ('admin', 'referent')
           OR (CAST(:role AS text) = 'chef_secteur' AND (s.csp_id || ':' || s.code) = ANY (CAST(:keys AS text[])))
           OR (CAST(:role AS text) = 'maire' AND EXISTS (
               SELECT 1 FROM sector_cell sc JOIN commune_cell cc ON cc.i = sc.i AND cc.j = sc.j
               WHERE sc.sector_id = s.id AND cc.insee = CAST(:commune AS text))))"""

#: One statement: the facts (a problem's three flags, a meeting in a sector, a seen sector with nothing),
#: then every level at once with GROUPING SETS; ``lvl`` is GROUPING(csp_id, code, category) (0: sector x
#: category, 1: sector, 2: CSP x category, 3: CSP, 6: category, 7: total).
_FIGURES = f"""
WITH bounds AS (
    SELECT (CAST(:first AS date)::timestamp AT TIME ZONE :tz) AS t0,
           ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz) AS t1
), seen AS ({_SEEN}
), problems AS (
    SELECT coalesce(s.csp_id, p.csp_id) AS csp_id, s.code, p.category_code AS category,
           (p.reported_on >= :first)::int AS raised,
           EXISTS (SELECT 1 FROM problem_status_change c WHERE c.problem_id = p.id AND c.to_status = 'resolu'
                   AND c.changed_at >= b.t0 AND c.changed_at < b.t1)::int AS resolved,
           (coalesce((SELECT c.to_status FROM problem_status_change c WHERE c.problem_id = p.id
                      AND c.changed_at < b.t1 ORDER BY c.changed_at DESC, c.id DESC LIMIT 1), 'signale')
            <> 'resolu')::int AS open
    FROM problem p CROSS JOIN bounds b LEFT JOIN sector s ON s.id = p.sector_id
    WHERE p.reported_on <= :last
      AND (CAST(:role AS text) IN ('admin', 'referent')
           OR (CAST(:role AS text) = 'chef_secteur' AND (s.csp_id || ':' || s.code) = ANY (CAST(:keys AS text[])))
           OR (CAST(:role AS text) = 'maire' AND p.commune_insee = CAST(:commune AS text)))
), meetings AS (
    SELECT DISTINCT m.id, gs.csp_id, gs.sector_code AS code
    FROM meeting m JOIN gpo g ON g.id = m.gpo_id JOIN gpo_sector gs ON gs.gpo_id = g.id
    JOIN seen ON seen.csp_id = gs.csp_id AND seen.code = gs.sector_code
    WHERE m.held_on BETWEEN :first AND :last AND {visible_gpo_sql("g")}
), facts AS (
    SELECT csp_id, code, category, NULL::integer AS meeting_id, raised, resolved, open FROM problems
    WHERE raised + resolved + open > 0
    UNION ALL SELECT csp_id, code, NULL, id, 0, 0, 0 FROM meetings
    UNION ALL SELECT csp_id, code, NULL, NULL, 0, 0, 0 FROM seen
), levels AS (
    SELECT csp_id, code, category, GROUPING(csp_id, code, category) AS lvl, count(DISTINCT meeting_id) AS meetings,
           coalesce(sum(raised), 0) AS raised, coalesce(sum(resolved), 0) AS resolved, coalesce(sum(open), 0) AS open
    FROM facts
    GROUP BY GROUPING SETS ((csp_id, code, category), (csp_id, code), (csp_id, category), (csp_id), (category), ())
)
SELECT l.*, c.name AS csp_name, n.name AS sector_name
FROM levels l LEFT JOIN csp c ON c.id = l.csp_id
LEFT JOIN LATERAL (
    SELECT s.name FROM sector s WHERE s.csp_id = l.csp_id AND s.code = l.code
    ORDER BY (s.valid_from <= :last) DESC, s.valid_from DESC LIMIT 1) n ON l.lvl IN (0, 1)
WHERE l.category IS NOT NULL OR l.lvl IN (1, 3, 7)
ORDER BY c.name NULLS LAST, l.code NULLS LAST
"""


def figures(bind: Engine | Connection, scope: UserScope, first: dt.date, last: dt.date) -> Figures:
    """The figures of ``[first, last]`` (local days) for what ``scope`` sees (see the module's docstring).

    Raises FiguresError on a period that ends before it starts or spans more than MAX_YEARS years.

    >>> from geo.accounts.users import UserScope
    >>> figures(engine, UserScope("partenaire"), dt.date(2026, 1, 1), dt.date(2026, 6, 30)).total.raised
    0
    """
    check_period(first, last)
    with connection(bind) as conn:
        rows = conn.execute(sa.text(_FIGURES), {**scope_params(scope), "first": first, "last": last,
                                                "tz": LOCAL_TZ}).mappings().all()
    by_category: dict[tuple, dict[str, CategoryLine]] = {}
    heads = []
    for r in rows:
        key = (r["csp_id"], r["code"]) if r["lvl"] in (0, 1) else (r["csp_id"],) if r["lvl"] in (2, 3) else ()
        if r["category"] is None:
            heads.append((key, r))
        else:
            by_category.setdefault(key, {})[r["category"]] = CategoryLine(
                r["category"], _label(r["category"]), r["raised"], r["resolved"], r["open"])
    lines = {key: _line(r, by_category.get(key, {})) for key, r in heads}
    total = lines.pop(())  # GROUPING SETS' () gives the total's row even when nothing is seen
    return Figures(first, last, tuple(v for k, v in lines.items() if len(k) == 2),
                   tuple(v for k, v in lines.items() if len(k) == 1), total)


def _label(code: str) -> str:
    return next((c.label for c in categories() if c.code == code), code)


def _line(r, cats: dict[str, CategoryLine]) -> Line:
    """A line of the SQL's ``levels`` with its categories, in the order of data/categories.csv."""
    order = {c.code: k for k, c in enumerate(categories())}
    ordered = tuple(sorted(cats.values(), key=lambda c: order.get(c.code, len(order))))
    csp_name = "" if r["lvl"] == 7 else r.get("csp_name") or OUTSIDE_CSPS
    sector_name = "" if r["lvl"] != 1 else r.get("sector_name") or OUTSIDE_SECTORS
    return Line(r["csp_id"], csp_name, r["code"], sector_name, r["meetings"], r["raised"], r["resolved"], r["open"],
                ordered)


__all__ = ["CategoryLine", "Figures", "FiguresError", "Line", "MAX_YEARS", "check_period", "figures", "parse_period"]
