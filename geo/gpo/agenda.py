"""The ranked agenda of a GPO's meeting: every open problem of its sectors, scored by seven explained factors.

DESIGN.md section 5, "Priority for the GPO agenda". The problems are those not resolved
(status other than ``resolu``) attributed to a version of one of the GPO's sectors, of its
categories when it has some (a thematic GPO). Each gets seven factors, each normalised to
[0, 1]; its score is the sum of weight x normalised factor, and each factor's share of the
score is shown, so that a chief can defend the order in the meeting:

============  ==================  ======================================================================
factor        column              raw value, normalised
============  ==================  ======================================================================
recurrence    récurrence          n occurrences of the problem's category within
                                  AGENDA_RECURRENCE_BUFFER_M (150 m) of its place over the 90 days
                                  before the meeting (and, shown, the 90 before those);
                                  n / (n + 10): 10 facts give 0.5, 30 give 0.75, never 1.
trend         tendance            Mann-Kendall (alpha 0.05) of the same counts over the 12 complete
                                  months before the meeting; tau when the rise is significant, else 0.
hotspot       point chaud         the calibrated Gi* class (exact test, FDR; 1, 2, 3 for 90, 95, 99 %)
                                  of the hottest 200 m cell its place touches, on its sector's grid,
                                  its category's occurrences over the last 90 days; class / 3, 0 if
                                  not hot.
severity      gravité             the category's severity / the greatest severity of all categories.
sensitive     lieux sensibles     n sensitive places (schools, transport stops, social housing,
                                  ``psq load places``) within AGENDA_SENSITIVE_DISTANCE_M (200 m);
                                  1 - 0.5 ** n: one gives 0.5, two 0.75.
age           ancienneté          days from its report (or its last reopening) to the meeting;
                                  min(1, days / 365).
partners      partenaires         organisations concerned: the one that raised it and those holding
                                  an action on it; min(1, n / 3).
============  ==================  ======================================================================

The weights (geo.settings.AGENDA_WEIGHTS: recurrence 3, trend 1.5, hotspot 2, severity 2,
sensitive places 1, age 0.5, partners 0.5) can be set with ``PSQ_AGENDA_WEIGHTS`` and by the
caller; a weight 0 removes a factor. Lines are ranked by score, ties by problem id.

The counts stop the day before the meeting, or yesterday when the meeting is ahead: days
not yet lived would read as a drop. Everything but the hot spots is one set-based SQL
statement over all the problems; the hot spots are computed once per sector of the GPO
with the sector page's methods (geo.analysis.methods.gistar_cells, then supported), every
category on the agenda apart and the false discovery rate controlled over them together.
The bind is the caller's: in the web app the user's scoped connection (row-level security).

Examples
--------
>>> f = Factor("age", "ancienneté", "134 jours", 134.0, 134 / 365, 0.5, 0.5 * 134 / 365, 0.25)
>>> round(f.points, 3), share_text(f.share)
(0.184, '25\\xa0%')
>>> recurrence_value(12, 5), trend_value(1, 0.4545), sensitive_value({"school": 2, "transport": 1})
('12 faits (contre 5)', 'hausse (τ = 0,45)', '2 écoles, 1 arrêt de transport')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from babel.numbers import format_percent
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import Grid, HotspotInputError
from geo.analysis.hotspots.mann_kendall import mann_kendall
from geo.analysis.methods import cell_squares, gistar_cells, supported
from geo.analysis.points import fetch_points
from geo.analysis.scopes import Sector, sectors_on_day
from geo.db.unit_of_work import connection
from geo.formats import LOCALE, day, number
from geo.gpo.groups import Gpo
from geo.settings import (
    AGENDA_FACTORS,
    AGENDA_RECURRENCE_BUFFER_M,
    AGENDA_SENSITIVE_DISTANCE_M,
    CELL_SIZE_M,
    LOCAL_TZ,
    agenda_weights,
    checked_weights,
    local_today,
)

LABELS = {"recurrence": "récurrence", "trend": "tendance", "hotspot": "point chaud", "severity": "gravité",
          "sensitive": "lieux sensibles", "age": "ancienneté", "partners": "partenaires"}
#: The kinds of sensitive place (migration 0012, ``psq load places --kind``): their French names, one and several.
PLACE_KINDS = {"school": ("école", "écoles"), "transport": ("arrêt de transport", "arrêts de transport"),
               "housing": ("résidence sociale", "résidences sociales")}
#: The days of the recurrence and hot spot windows; the trend's complete months.
WINDOW_DAYS = 90
TREND_MONTHS = 12
#: n facts give a recurrence of n / (n + RECURRENCE_HALF): this many give one half.
RECURRENCE_HALF = 10
#: Days open, and organisations concerned, that count in full.
AGE_FULL_DAYS = 365
PARTNERS_FULL = 3
#: The confidence of each hot class (Gi_Bin), in %.
CONFIDENCE = {1: 90, 2: 95, 3: 99}


@dataclasses.dataclass(frozen=True)
class Factor:
    """One factor of an agenda line: its French label and value, the raw number, its weighted points and share."""

    key: str
    label: str
    value: str
    raw: float | None
    normalised: float
    weight: float
    points: float
    share: float


@dataclasses.dataclass(frozen=True)
class AgendaLine:
    """A problem on the agenda: its rank, its seven factors (in AGENDA_FACTORS order), score and actions."""

    rank: int
    problem_id: int
    title: str
    category_code: str
    category_label: str
    status: str
    reported_on: dt.date
    factors: tuple[Factor, ...]
    score: float
    open_actions: int
    overdue_actions: int

    def factor(self, key: str) -> Factor:
        """The factor ``key`` (KeyError for another key)."""
        for f in self.factors:
            if f.key == key:
                return f
        raise KeyError(key)

    def as_dict(self) -> dict:
        """The line as a meeting keeps it (meeting_problem.factors): factor key -> its figures, rank, score."""
        figures = {f.key: {"label": f.label, "value": f.value, "raw": f.raw, "normalised": f.normalised,
                           "weight": f.weight, "points": f.points, "share": f.share} for f in self.factors}
        return {**figures, "rank": self.rank, "score": self.score}


@dataclasses.dataclass(frozen=True)
class Agenda:
    """The agenda of one meeting: the lines best first, the weights used, and French notes on what was missing."""

    gpo_id: int
    gpo_name: str
    meeting_on: dt.date
    lines: tuple[AgendaLine, ...]
    weights: dict[str, float]
    notes: tuple[str, ...]


def agenda(bind: Engine | Connection, gpo: Gpo, meeting_on: dt.date | None = None, *,
           weights: dict | None = None) -> Agenda:
    """The ranked agenda of ``gpo``'s meeting on ``meeting_on`` (default: its next meeting from today).

    ``weights``: factor -> weight, over the settings' (PSQ_AGENDA_WEIGHTS, else the
    defaults); an unknown factor or a weight that is not a number >= 0 raises SettingError.
    """
    today = local_today()
    meeting_on = meeting_on or gpo.next_meeting_on(today)
    weights = checked_weights({**agenda_weights(), **(weights or {})}, setting="Poids de l'ordre du jour")
    until = min(meeting_on, today)  # the counts end the day before
    notes = []
    if until < meeting_on:
        notes.append(f"Faits comptés jusqu'au {day(until - dt.timedelta(days=1))} : les jours d'ici la réunion ne "
                     "sont pas encore passés.")
    with connection(bind) as conn:
        rows = _problem_rows(conn, gpo, meeting_on, until)
        if not rows.empty:
            rows["hotspot"] = _hotspot_classes(conn, gpo, rows, until, notes)
        if not _places_near(conn, gpo):
            notes.append("Aucun lieu sensible chargé dans les secteurs du GPO : le facteur « lieux sensibles » vaut 0 "
                         "pour tous.")
    lines = _ranked(rows, weights, meeting_on)
    return Agenda(gpo.id, gpo.name, meeting_on, lines, weights, tuple(notes))


# -- the figures of every problem, in SQL ------------------------------------------------------------
_PROBLEMS = """
WITH p AS (
    SELECT p.id, p.title, p.category_code, c.label AS category_label, c.severity, p.status, p.reported_on, p.geom,
           p.organisation_id, s.code AS sector_code
    FROM problem p
    JOIN sector s ON s.id = p.sector_id
    JOIN category c ON c.code = p.category_code
    WHERE (s.csp_id || ':' || s.code) = ANY (CAST(:keys AS text[]))
      AND p.status <> 'resolu'
      AND (CAST(:categories AS text[]) IS NULL OR p.category_code = ANY (CAST(:categories AS text[])))
)
SELECT p.id, p.title, p.category_code, p.category_label, p.severity, (SELECT max(severity) FROM category) AS top_severity,
       p.status, p.reported_on, p.sector_code,
       greatest(p.reported_on, (
           SELECT max((h.changed_at AT TIME ZONE :tz)::date) FROM problem_status_change h
           WHERE h.problem_id = p.id AND h.to_status = 'reouvert'
             AND (h.changed_at AT TIME ZONE :tz)::date <= :meeting_on)) AS open_since,
       f.recent, f.previous, f.months,
       (SELECT coalesce(json_object_agg(k.kind, k.n), '{}') FROM (
            SELECT sp.kind, count(*) AS n FROM sensitive_place sp
            WHERE ST_DWithin(sp.geom, p.geom, :distance) GROUP BY sp.kind) k) AS places,
       (SELECT count(DISTINCT o.id) FROM (
            SELECT p.organisation_id AS id
            UNION ALL SELECT a.organisation_id FROM gpo_action a WHERE a.problem_id = p.id) o) AS partners,
       (SELECT count(*) FROM gpo_action a WHERE a.problem_id = p.id AND a.status IN ('prevue', 'en_cours'))
           AS open_actions,
       (SELECT count(*) FROM gpo_action a WHERE a.problem_id = p.id AND a.status IN ('prevue', 'en_cours')
            AND a.due_on < :meeting_on) AS overdue_actions,
       ST_AsBinary(p.geom) AS geom
FROM p
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.day >= :recent_first) AS recent,
           count(*) FILTER (WHERE x.day >= :previous_first AND x.day < :recent_first) AS previous,
           coalesce(array_agg(x.month) FILTER (WHERE x.day >= :months_first AND x.day < :months_end), '{}') AS months
    FROM (SELECT (o.occurred_at AT TIME ZONE :tz)::date AS day,
                 (extract(year FROM o.occurred_at AT TIME ZONE :tz) * 12
                  + extract(month FROM o.occurred_at AT TIME ZONE :tz) - 1)::int AS month
          FROM occurrence o
          WHERE o.category_code = p.category_code AND ST_DWithin(o.geom, p.geom, :buffer)
            AND o.occurred_at >= (CAST(:start AS date)::timestamp AT TIME ZONE :tz)
            AND o.occurred_at < (CAST(:until AS date)::timestamp AT TIME ZONE :tz)) x
) f
ORDER BY p.id
"""


def _problem_rows(conn: Connection, gpo: Gpo, meeting_on: dt.date, until: dt.date) -> pd.DataFrame:
    """One row per problem of the agenda with the raw figures of every factor but the hot spot."""
    recent_first = until - dt.timedelta(days=WINDOW_DAYS)
    previous_first = recent_first - dt.timedelta(days=WINDOW_DAYS)
    months_end = until.replace(day=1)  # the trend's months: the 12 before the month in which the counts end
    months_first = (pd.Timestamp(months_end) - pd.DateOffset(months=TREND_MONTHS)).date()
    params = {"keys": list(gpo.sector_keys), "categories": list(gpo.categories) if gpo.categories else None,
              "tz": LOCAL_TZ, "meeting_on": meeting_on, "distance": AGENDA_SENSITIVE_DISTANCE_M,
              "buffer": AGENDA_RECURRENCE_BUFFER_M, "recent_first": recent_first,
              "previous_first": previous_first, "months_first": months_first, "months_end": months_end,
              "start": min(previous_first, months_first), "until": until}
    # Once the planner's estimate passes jit_above_cost (a large occurrence table), compiling the plan takes
    # half a second, more than the query: off for this statement only, the caller's setting put back after.
    before = conn.execute(sa.text("SELECT current_setting('jit'), set_config('jit', 'off', true)")).scalar_one()
    rows = pd.DataFrame(conn.execute(sa.text(_PROBLEMS), params).mappings().all())
    conn.execute(sa.text("SELECT set_config('jit', :before, true)"), {"before": before})
    if rows.empty:
        return rows
    first_month = months_first.year * 12 + months_first.month - 1
    rows["cells"] = [touched_cells(shapely.from_wkb(bytes(g))) for g in rows.geom]
    rows["monthly"] = [np.bincount(np.asarray(m, int) - first_month, minlength=TREND_MONTHS)[:TREND_MONTHS]
                       for m in rows.months]
    return rows


def touched_cells(geometry, size: float = CELL_SIZE_M) -> list[tuple[int, int]]:
    """The cells ``(i, j)`` of the grid anchored at the origin that a geometry (EPSG:2154) touches.

    >>> touched_cells(shapely.Point(250, 50)), touched_cells(shapely.LineString([(10, 10), (390, 10)]))
    ([(1, 0)], [(0, 0), (1, 0)])
    """
    xmin, ymin, xmax, ymax = geometry.bounds
    i, j = np.meshgrid(np.arange(np.floor(xmin / size), np.floor(xmax / size) + 1, dtype=int),
                       np.arange(np.floor(ymin / size), np.floor(ymax / size) + 1, dtype=int), indexing="ij")
    touched = shapely.intersects(geometry, cell_squares(i.ravel(), j.ravel(), size))
    return list(zip(i.ravel()[touched].tolist(), j.ravel()[touched].tolist()))


def _places_near(conn: Connection, gpo: Gpo) -> bool:
    """Whether any sensitive place lies in (or within the distance of) a version of one of the GPO's sectors."""
    return bool(conn.execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM sensitive_place sp JOIN sector s ON ST_DWithin(sp.geom, s.geom, :d) "
        "WHERE (s.csp_id || ':' || s.code) = ANY (CAST(:keys AS text[])))"),
        {"d": AGENDA_SENSITIVE_DISTANCE_M, "keys": list(gpo.sector_keys)}).scalar())


# -- the hot spots, per sector ------------------------------------------------------------------------
def _hotspot_classes(conn: Connection, gpo: Gpo, rows: pd.DataFrame, until: dt.date,
                     notes: list[str]) -> pd.Series:
    """The hot class (0 to 3) of each problem's hottest cell; None where its sector could not be analysed."""
    last = until - dt.timedelta(days=1)
    first = until - dt.timedelta(days=WINDOW_DAYS)
    categories = sorted(set(rows.category_code))
    analysed = {}  # sector code -> category -> {(i, j): hot class}
    for sector in sectors_on_day(conn, last, keys=gpo.sector_keys):
        if sector.code in set(rows.sector_code):
            try:
                analysed[sector.code] = _sector_hot_cells(conn, sector, first, last, categories)
            except HotspotInputError as error:
                notes.append(f"Point chaud, secteur {sector.code} : {error.user_message}")
    empty = sorted(code for code, hot in analysed.items() if hot is None)
    if empty:
        notes.append(f"Point chaud, secteur{'s' if len(empty) > 1 else ''} {', '.join(empty)} : aucun fait des "
                     f"catégories de l'ordre du jour sur les {WINDOW_DAYS} derniers jours.")
    classes = [None if r.sector_code not in analysed else
               max((int((analysed[r.sector_code] or {}).get(r.category_code, {}).get(tuple(c), 0)) for c in r.cells),
                   default=0)
               for r in rows.itertuples()]
    return pd.Series(classes, index=rows.index, dtype=object)  # ints and None, not floats and NaN


def _sector_hot_cells(conn: Connection, sector: Sector, first: dt.date, last: dt.date,
                      categories: list[str]) -> dict | None:
    """category -> {(i, j): hot class} of the sector's grid, each category apart, the FDR over them together.

    None when no occurrence of those categories falls in the sector: nothing to test, no cell hot.
    """
    points = fetch_points(conn, sector.scope(), first, last, None)
    points = points.where(np.isin(points.category, categories))
    if len(points.x) == 0:
        return None
    frame = supported(gistar_cells(points, Grid.from_polygon(sector.geometry, size=CELL_SIZE_M), apart=True),
                      len(points.x)).frame
    hot = frame[frame.gi_bin > 0]
    return {code: dict(zip(zip(group.i, group.j), group.gi_bin)) for code, group in hot.groupby("category")}


# -- the lines ----------------------------------------------------------------------------------------
def _ranked(rows: pd.DataFrame, weights: dict[str, float], meeting_on: dt.date) -> tuple[AgendaLine, ...]:
    if rows.empty:
        return ()
    trends = mann_kendall(np.vstack(rows.monthly.to_numpy()))
    scored = []
    for k, r in enumerate(rows.itertuples()):
        figures = _figures(r, int(trends.trend[k]), float(trends.tau[k]), meeting_on)
        points = {key: weights[key] * figures[key][2] for key in AGENDA_FACTORS}
        score = sum(points.values())
        factors = tuple(Factor(key, LABELS[key], figures[key][0], figures[key][1], float(figures[key][2]),
                               weights[key], float(points[key]), float(points[key] / score) if score else 0.0)
                        for key in AGENDA_FACTORS)
        scored.append((score, r, factors))
    scored.sort(key=lambda s: (-s[0], s[1].id))
    return tuple(AgendaLine(rank, int(r.id), r.title, r.category_code, r.category_label, r.status, r.reported_on,
                            factors, float(score), int(r.open_actions), int(r.overdue_actions))
                 for rank, (score, r, factors) in enumerate(scored, start=1))


def _figures(r, trend: int, tau: float, meeting_on: dt.date) -> dict[str, tuple[str, float | None, float]]:
    """factor -> (French value, raw number, normalised) of one problem's row."""
    places = r.places if isinstance(r.places, dict) else json.loads(r.places)
    days = max(0, (meeting_on - r.open_since).days)
    hot = r.hotspot
    return {
        "recurrence": (recurrence_value(r.recent, r.previous), float(r.recent), r.recent / (r.recent + RECURRENCE_HALF)),
        "trend": (trend_value(trend, tau), tau, tau if trend > 0 else 0.0),
        "hotspot": (hotspot_value(hot), None if hot is None else float(hot), (hot or 0) / 3),
        "severity": (f"{number(r.severity, _digits(r.severity))} sur {number(r.top_severity, _digits(r.top_severity))}",
                     float(r.severity), float(r.severity) / float(r.top_severity)),
        "sensitive": (sensitive_value(places), float(sum(places.values())), 1 - 0.5 ** sum(places.values())),
        "age": (f"{number(days)} jour{'s' if days > 1 else ''}", float(days), min(1.0, days / AGE_FULL_DAYS)),
        "partners": (number(r.partners), float(r.partners), min(1.0, r.partners / PARTNERS_FULL)),
    }


def _digits(value: float) -> int:
    return 0 if float(value).is_integer() else 1


def recurrence_value(recent: int, previous: int) -> str:
    """'12 faits (contre 5)': the last 90 days, and the 90 before."""
    return f"{number(recent)} fait{'s' if recent > 1 else ''} (contre {number(previous)})"


def trend_value(trend: int, tau: float) -> str:
    """'hausse (τ = 0,45)', 'baisse' or 'pas de tendance' (Mann-Kendall's trend, -1, 0 or 1)."""
    if trend > 0:
        return f"hausse (τ = {number(tau, 2)})"
    return "baisse" if trend < 0 else "pas de tendance"


def hotspot_value(hot: int | None) -> str:
    """'classe 2 (95 %)' for a hot class, else 'non'."""
    return f"classe {hot} ({CONFIDENCE[hot]}\u00a0%)" if hot else "non"


def sensitive_value(counts: dict[str, int]) -> str:
    """'2 écoles, 1 arrêt de transport' (kind -> count), 'aucun' without any."""
    parts = [f"{counts[k]} {PLACE_KINDS[k][counts[k] > 1]}" for k in PLACE_KINDS if counts.get(k)]
    return ", ".join(parts) or "aucun"


def share_text(share: float) -> str:
    """A share of the score as the French write it: '41 %'."""
    return format_percent(share, locale=LOCALE)


__all__ = ["LABELS", "PLACE_KINDS", "Agenda", "AgendaLine", "Factor", "agenda", "hotspot_value", "recurrence_value",
           "sensitive_value", "share_text", "trend_value"]
