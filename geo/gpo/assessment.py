"""The assessment of an action (the "évaluation" step of the GPO, DESIGN.md section 5): before/after counts.

Occurrences are counted over two equal periods of local days, the ``days`` before the
action's date and the ``days`` from it on, in three disjoint areas: the response area R,
a ring D around it (``buffer_m`` metres) and a control area C (by default the sectors in
force that R touches, outside R and D). From the six counts:

- GE = Rb - Ra (gross effect);
- NE = Rb/Cb - Ra/Ca (net effect: R's change beyond C's);
- WDQ = (Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb) (weighted displacement quotient: > 0 diffusion of
  benefits, -1 to 0 displacement with a net gain, < -1 displacement cancelling the gain);
- TNE = [Rb(Ca/Cb) - Ra] + [Db(Ca/Cb) - Da] (total net effect, in occurrences).

A ratio whose denominator is zero is None, with a note naming the count. The ratios are
computed on fractions, so that "exactly zero" is exact. Whether R fell relative to C at
all is tested too (Fisher's exact test on the 2x2 table Rb, Ra / Cb, Ca): on counts this
small a fall often is chance, and the reading says so rather than claim it.

Examples
--------
>>> m = measures(Counts(rb=40, ra=20, db=30, da=45, cb=400, ca=500))
>>> m.ge, m.ne, m.wdq, m.tne
(20, 0.06, -0.25, 22.5)
>>> m.fall
True
>>> measures(Counts(rb=4, ra=3, db=2, da=2, cb=0, ca=12)).notes
("Aucun fait dans la zone témoin avant l'action (Cb = 0) : NE, WDQ et TNE ne se calculent pas.",)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from fractions import Fraction
from pathlib import Path

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.scopes import as_multipolygon, sectors_on_day
from geo.db.unit_of_work import connection, transaction
from geo.errors import PsqError
from geo.formats import day as day_text
from geo.formats import number
from geo.problems.categories import categories, resolve
from geo.settings import DAYS_ACCEPTED, LOCAL_TZ, SRID, local_today

#: The bounds of the parameters (the web form's too).
DAYS_RANGE = (1, 730)
BUFFER_RANGE_M = (0, 5000)
#: Below this p-value of Fisher's exact test, R's change relative to C is read as real.
ALPHA = 0.05


class AssessmentError(PsqError, ValueError):
    """An assessment asked wrongly (one sentence in French naming the fault)."""


# -- the measures (no database) ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Counts:
    """Occurrences before (b) and after (a) the action in R (r), the ring D (d) and the control area C (c)."""

    rb: int
    ra: int
    db: int
    da: int
    cb: int
    ca: int


@dataclasses.dataclass(frozen=True)
class Measures:
    """GE, NE, WDQ, TNE (None where undefined), Fisher's p of R against C, the notes and the French reading."""

    ge: int
    ne: float | None
    wdq: float | None
    tne: float | None
    p_value: float | None
    notes: tuple[str, ...]
    reading: str

    @property
    def fall(self) -> bool:
        """Whether R fell relative to C beyond chance (NE > 0 and p < ALPHA): the only case a fall is claimed."""
        return self.ne is not None and self.ne > 0 and self.p_value is not None and self.p_value < ALPHA


def measures(counts: Counts, *, with_ring: bool = True) -> Measures:
    """GE, NE, WDQ and TNE of ``counts``, their notes and their reading.

    ``with_ring`` False: there is no ring (a buffer of 0 m), WDQ is not computed.

    >>> measures(Counts(rb=100, ra=50, db=80, da=60, cb=1000, ca=1000)).reading.split(". ")[2]
    'Diffusion des bénéfices : la couronne a baissé aussi (WDQ = 0,40)'
    """
    c = counts
    notes = list(_zero_notes(c, with_ring))
    ne = wdq = tne = p_value = None
    if c.cb and c.ca:
        ne = Fraction(c.rb, c.cb) - Fraction(c.ra, c.ca)
        p_value = _fisher(c)
        change = -ne  # Ra/Ca - Rb/Cb
        if change and with_ring:
            wdq = (Fraction(c.da, c.ca) - Fraction(c.db, c.cb)) / change
    if c.cb:
        scale = Fraction(c.ca, c.cb)
        tne = (c.rb * scale - c.ra) + ((c.db * scale - c.da) if with_ring else 0)
    reading = " ".join(_reading(c, ne, wdq, tne, p_value, with_ring))
    return Measures(c.rb - c.ra, _float(ne), _float(wdq), _float(tne), p_value, tuple(notes), reading)


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def _fisher(c: Counts) -> float:
    """Two-sided p of Fisher's exact test: did R's share of occurrences after the action differ from C's?"""
    from scipy.stats import fisher_exact  # SciPy loads in a second: only when an assessment runs

    return float(fisher_exact([[c.rb, c.ra], [c.cb, c.ca]]).pvalue)


def _zero_notes(c: Counts, with_ring: bool):
    if not c.cb and not c.ca:
        yield ("Aucun fait dans la zone témoin, ni avant ni après l'action (Cb = Ca = 0) : NE, WDQ et TNE ne se "
               "calculent pas.")
    elif not c.cb:
        yield "Aucun fait dans la zone témoin avant l'action (Cb = 0) : NE, WDQ et TNE ne se calculent pas."
    elif not c.ca:
        yield "Aucun fait dans la zone témoin après l'action (Ca = 0) : NE et WDQ ne se calculent pas."
    elif not with_ring:
        yield "Pas de couronne (0 m) : le déplacement (WDQ) ne se mesure pas, TNE ne compte que la zone."
    elif not c.rb and not c.ra:
        yield "Aucun fait dans la zone, ni avant ni après l'action (Rb = Ra = 0) : WDQ ne se calcule pas."
    elif c.ra * c.cb == c.rb * c.ca:
        yield "La zone a évolué exactement comme la zone témoin (Ra/Ca = Rb/Cb) : WDQ ne se calcule pas."


def _reading(c: Counts, ne, wdq, tne, p_value, with_ring: bool):
    """The sentences of the reading: the gross effect, R against C, the displacement, the total net effect."""
    yield _gross(c)
    if ne is None:
        yield ("Sans fait dans la zone témoin, l'évolution de la zone ne se compare à rien : aucune conclusion sur "
               "l'action.")
    elif ne == 0:
        yield "Rapportée à la zone témoin, la zone n'a pas changé (NE = 0) : l'action ne montre pas de baisse relative."
    else:
        test = f"test exact de Fisher : {_p(p_value)}"
        wdq_text = "" if wdq is None else f" (WDQ = {_figure(wdq)}, pour mémoire)"
        if ne < 0:
            yield (f"Rapportée à la zone témoin, la zone a augmenté (NE = {_figure(ne)} ; {test}) : l'action ne "
                   f"montre pas de baisse relative, le déplacement ne se lit donc pas{wdq_text}.")
        elif p_value >= ALPHA:
            yield (f"Rapportée à la zone témoin, la zone a baissé (NE = {_figure(ne)}), mais pas plus que le hasard ne "
                   f"le ferait ({test}) : l'action ne montre pas de baisse établie, le déplacement ne se lit donc pas"
                   f"{wdq_text}.")
        else:
            yield f"Rapportée à la zone témoin, la zone a baissé (NE = {_figure(ne)} ; {test})."
            if wdq is not None:
                yield _displacement(wdq)
    if tne is not None:
        yield _total(tne, p_value, with_ring)


def _gross(c: Counts) -> str:
    before = f"{_count(c.rb)} avant l'action, {number(c.ra)} après"
    ge = c.rb - c.ra
    if ge > 0:
        return (f"Zone de l'action : {before}, soit {number(ge)} fait{'s' * (ge > 1)} de moins "
                f"(effet brut, GE = {number(ge)}).")
    if ge < 0:
        return (f"Zone de l'action : {before}, soit {number(-ge)} fait{'s' * (-ge > 1)} de plus "
                f"(effet brut, GE = {number(ge)}).")
    return f"Zone de l'action : {before}, autant avant qu'après (effet brut nul, GE = 0)."


def _displacement(wdq: Fraction) -> str:
    value = _figure(wdq)
    if wdq > 0:
        return f"Diffusion des bénéfices : la couronne a baissé aussi (WDQ = {value})."
    if wdq == 0:
        return f"Pas de déplacement : la couronne a évolué comme la zone témoin (WDQ = {value})."
    if wdq >= -1:
        return (f"Déplacement avec gain net : une partie des faits s'est reportée sur la couronne, moins que la baisse "
                f"de la zone (WDQ = {value}).")
    return (f"Déplacement qui annule le gain : la couronne a gagné plus de faits que la zone n'en a perdu "
            f"(WDQ = {value}).")


def _total(tne: Fraction, p_value: float | None, with_ring: bool) -> str:
    where = "la zone et sa couronne" if with_ring else "la zone"
    digits = 0 if tne.denominator == 1 else 1
    value = _figure(tne, digits)
    if p_value is None:
        return f"Effet net total : TNE = {value}, à lire avec prudence (la zone témoin ne permet aucun test)."
    if p_value >= ALPHA:
        return f"Effet net total : TNE = {value}, un écart que le hasard peut expliquer."
    if tne == 0:
        return f"Effet net total : autant de faits dans {where} que ne le laissait attendre la zone témoin (TNE = 0)."
    more = "moins" if tne > 0 else "plus"
    return (f"Effet net total : {_figure(abs(tne), digits)} faits de {more} dans {where} que ne le laissait "
            f"attendre la zone témoin (TNE = {value}).")


def _count(n: int) -> str:
    return f"{number(n)} fait{'s' * (n > 1)}"


def _figure(value, digits: int | None = None) -> str:
    """A measure in French: ``digits`` decimals, or (None) two significant digits, at least two decimals; never "-0".

    >>> _figure(Fraction(-1, 4)), _figure(Fraction(3, 50)), _figure(Fraction(45, 2), 1), _figure(Fraction(-1, 10**6))
    ('-0,25', '0,060', '22,5', '0')
    """
    value = float(value)
    if digits is None:
        digits = 2 if value == 0 else min(4, max(2, 1 - math.floor(math.log10(abs(value)))))
    if round(value, digits) == 0:
        return "0"
    return number(value, digits)


def _p(p_value: float) -> str:
    return "p < 0,001" if p_value < 0.001 else f"p = {number(p_value, 3)}"


# -- the areas --------------------------------------------------------------------------------------------
def default_ring(area, buffer_m: float) -> shapely.MultiPolygon:
    """The ring D: ``area`` buffered by ``buffer_m`` metres, minus ``area`` (empty for 0 m).

    >>> ring = default_ring(shapely.box(0, 0, 100, 100), 50)
    >>> ring.geom_type, round(ring.area) == round(shapely.box(0, 0, 100, 100).buffer(50).area - 10_000)
    ('MultiPolygon', True)
    """
    if buffer_m <= 0:
        return shapely.MultiPolygon()
    return _multipolygon(area.buffer(buffer_m).difference(area))


def default_control(bind: Engine | Connection, area, ring, day: dt.date) -> shapely.MultiPolygon:
    """The control area C: the sectors in force on ``day`` whose surface ``area`` overlaps, minus ``area`` and ``ring``.

    Empty when ``area`` overlaps no sector then.
    """
    touched = [s.geometry for s in sectors_on_day(bind, day) if s.geometry.intersection(area).area > 0]
    if not touched:
        return shapely.MultiPolygon()
    return _multipolygon(shapely.union_all(touched).difference(shapely.union_all([area, ring])))


def _multipolygon(geometry) -> shapely.MultiPolygon:
    """The polygons of ``geometry`` as one MultiPolygon (a difference may leave lines or points on the edges)."""
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    if not parts:
        return shapely.MultiPolygon()
    return as_multipolygon(shapely.union_all(parts))


def read_area(path: str | Path) -> shapely.MultiPolygon:
    """The polygons of a vector file (GeoJSON, GeoPackage, Shapefile; any CRS) as one MultiPolygon in EPSG:2154.

    A file without a polygon, or with another kind of geometry, is refused in one sentence naming it.

    >>> read_area("data/boundaries/sectors-csp-belfort.geojson").geom_type
    'MultiPolygon'
    """
    from geo.ingest.vector_file import VectorFileError, feature_label, read_vector_file

    frame = read_vector_file(path)
    name = Path(path).name
    kinds = frame.geometry.geom_type
    polygons = kinds.isin(["Polygon", "MultiPolygon"])
    if not polygons.any():
        raise VectorFileError(f"{name} holds no polygon: the area assessed must be drawn as a polygon.")
    if not polygons.all():
        position = int((~polygons).to_numpy().argmax())
        raise VectorFileError(f"{name}, {feature_label(position + 1, None)}: a {kinds.iloc[position]}, not a polygon: "
                              "every feature of the area must be a polygon.")
    shapes = frame.to_crs(SRID).geometry.to_numpy()
    invalid = ~shapely.is_valid(shapes)
    if invalid.any():  # a union of an invalid polygon fails in GEOS: named here instead
        position = int(invalid.argmax())
        raise VectorFileError(f"{name}, {feature_label(position + 1, None)}: not a valid polygon "
                              f"({shapely.is_valid_reason(shapes[position])}).")
    return as_multipolygon(shapely.union_all(shapes))


def _checked_polygon(geometry, what: str) -> shapely.MultiPolygon:
    if geometry is None or geometry.is_empty:
        raise AssessmentError(f"{what} est vide : dessinez un polygone.")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise AssessmentError(f"{what} doit être un polygone, pas un {geometry.geom_type}.")
    if not geometry.is_valid:
        raise AssessmentError(f"{what} n'est pas un polygone valide ({shapely.is_valid_reason(geometry)}).")
    return as_multipolygon(geometry)


# -- the assessment ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Assessment:
    """An assessment: its three areas (EPSG:2154), its parameters, its counts, measures, notes and reading.

    ``before`` and ``after`` are the periods' first and last local days, both included.
    """

    area: shapely.MultiPolygon
    ring: shapely.MultiPolygon
    control: shapely.MultiPolygon
    action_on: dt.date
    days: int
    buffer_m: float
    category: str | None
    counts: Counts
    measures: Measures
    notes: tuple[str, ...]
    before: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]

    @property
    def reading(self) -> str:
        return self.measures.reading


def periods(action_on: dt.date, days: int) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """The ``days`` local days before ``action_on`` and the ``days`` from it on, each as (first, last).

    >>> periods(dt.date(2026, 3, 1), 10)
    ((datetime.date(2026, 2, 19), datetime.date(2026, 2, 28)), (datetime.date(2026, 3, 1), datetime.date(2026, 3, 10)))
    """
    one = dt.timedelta(days=1)
    span = dt.timedelta(days=days)
    return (action_on - span, action_on - one), (action_on, action_on + span - one)


def assess(bind: Engine | Connection, area, action_on: dt.date, *, days: int = 90, buffer_m: float = 200,
           control=None, category: str | None = None, today: dt.date | None = None) -> Assessment:
    """Count the occurrences before and after ``action_on`` in ``area``, its ring and a control area; measure them.

    Parameters
    ----------
    bind : Engine or Connection
        Where to count: the web app's scoped connection counts what its user may see.
    area : shapely Polygon or MultiPolygon
        The response area R, in EPSG:2154.
    action_on : date
        The action's date: the first day of the period after.
    days : int
        The length of each period, 1 to 730 days.
    buffer_m : float
        The width of the ring D, 0 to 5000 m.
    control : shapely Polygon or MultiPolygon, optional
        The control area C (EPSG:2154), used minus R and D; default :func:`default_control`.
    category : str, optional
        A category's code, label or alias; default every category.
    today : date, optional
        Today (default: in France), to say whether the periods are over.

    Raises AssessmentError (one French sentence) for a parameter out of bounds or an unusable area.
    """
    _check_parameters(action_on, days, buffer_m)
    area = _checked_polygon(area, "La zone évaluée")
    code = _category_code(category)
    ring = default_ring(area, buffer_m)
    notes = []
    if control is None:
        control = default_control(bind, area, ring, action_on)
        if control.is_empty:
            notes.append(f"La zone ne recouvre aucun secteur en vigueur le {day_text(action_on)} : pas de zone témoin "
                         "par défaut ; donnez-en une.")
    else:
        given = _checked_polygon(control, "La zone témoin")
        control = _multipolygon(given.difference(shapely.union_all([area, ring])))
        if given.area - control.area > 1e-6 * max(given.area, 1):
            notes.append("La zone témoin donnée recouvrait la zone évaluée ou sa couronne : cette partie en est "
                         "retirée.")
    before, after = periods(action_on, days)
    counts = count_occurrences(bind, area, ring, control, before[0], action_on, after[1], code)
    result = measures(counts, with_ring=not ring.is_empty)
    notes.extend(_period_notes(before, after, days, today or local_today()))
    return Assessment(area, ring, control, action_on, days, float(buffer_m), code, counts, result,
                      tuple(notes) + result.notes, before, after)


def _check_parameters(action_on: dt.date, days: int, buffer_m: float) -> None:
    if not isinstance(days, int) or not DAYS_RANGE[0] <= days <= DAYS_RANGE[1]:
        raise AssessmentError(f"La durée de chaque période doit être de {DAYS_RANGE[0]} à {DAYS_RANGE[1]} jours, "
                              f"pas {days}.")
    if not (isinstance(buffer_m, int | float) and math.isfinite(buffer_m)
            and BUFFER_RANGE_M[0] <= buffer_m <= BUFFER_RANGE_M[1]):
        raise AssessmentError(f"La couronne doit mesurer de {BUFFER_RANGE_M[0]} à {number(BUFFER_RANGE_M[1])} m, "
                              f"pas {buffer_m}.")
    first, last = DAYS_ACCEPTED
    if not first + dt.timedelta(days=days) <= action_on <= last - dt.timedelta(days=days):
        raise AssessmentError(f"La date de l'action {day_text(action_on)} est hors du calendrier accepté "
                              f"({day_text(first)} – {day_text(last)}, périodes comprises).")


def _category_code(category: str | None) -> str | None:
    if category is None or not str(category).strip():
        return None
    code = resolve(category)
    if code is None:
        known = ", ".join(c.code for c in categories())
        raise AssessmentError(f"Catégorie inconnue : « {category} » (les catégories : {known}).")
    return code


def _period_notes(before, after, days: int, today: dt.date):
    """A note for each period not yet over: how many of its days have passed (today is not over)."""
    for label, (first, last) in (("avant", before), ("après", after)):
        if last >= today:
            elapsed = min(days, max(0, (today - first).days))
            yield f"La période {label} n'est pas encore écoulée : {elapsed} jour{'s' * (elapsed > 1)} sur {days}."


_COUNTS_SQL = sa.text("""
    WITH bounds AS (
        SELECT (CAST(:first AS date)::timestamp AT TIME ZONE :tz) AS t0,
               (CAST(:action_on AS date)::timestamp AT TIME ZONE :tz) AS t1,
               ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz) AS t2,
               ST_GeomFromWKB(:r, 2154) AS r, ST_GeomFromWKB(:d, 2154) AS d, ST_GeomFromWKB(:c, 2154) AS c
    ), placed AS (
        -- Each occurrence in one area only: one on the edge of R and D counts in R, one on D's and C's in D.
        SELECT o.occurred_at < b.t1 AS before,
               CASE WHEN ST_Intersects(o.geom, b.r) THEN 'R' WHEN ST_Intersects(o.geom, b.d) THEN 'D'
                    WHEN ST_Intersects(o.geom, b.c) THEN 'C' END AS zone
        FROM occurrence o, bounds b
        WHERE o.occurred_at >= b.t0 AND o.occurred_at < b.t2
          AND ST_Intersects(o.geom, ST_GeomFromWKB(:everywhere, 2154))
          AND (CAST(:category AS text) IS NULL OR o.category_code = :category)
    )
    SELECT count(*) FILTER (WHERE zone = 'R' AND before) AS rb, count(*) FILTER (WHERE zone = 'R' AND NOT before) AS ra,
           count(*) FILTER (WHERE zone = 'D' AND before) AS db, count(*) FILTER (WHERE zone = 'D' AND NOT before) AS da,
           count(*) FILTER (WHERE zone = 'C' AND before) AS cb, count(*) FILTER (WHERE zone = 'C' AND NOT before) AS ca
    FROM placed""")


def count_occurrences(bind: Engine | Connection, area, ring, control, first: dt.date, action_on: dt.date,
                      last: dt.date, category: str | None = None) -> Counts:
    """The six counts in one statement: occurrences of the local days ``first`` to ``action_on`` (excluded) and
    ``action_on`` to ``last`` (included) in R, D and C (EPSG:2154), of ``category`` (a code; None: every one)."""
    everywhere = shapely.union_all([area, ring, control])
    with connection(bind) as conn:
        row = conn.execute(_COUNTS_SQL, {
            "tz": LOCAL_TZ, "first": first, "action_on": action_on, "last": last, "category": category,
            "r": shapely.to_wkb(area), "d": shapely.to_wkb(ring), "c": shapely.to_wkb(control),
            "everywhere": shapely.to_wkb(everywhere)}).one()
    return Counts(*row)


# -- stored assessments -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StoredAssessment:
    """An assessment kept in the table ``assessment``, its measures recomputed from its counts."""

    id: int
    gpo_id: int | None
    problem_id: int | None
    zone_id: int | None
    action_id: int | None
    label: str | None
    area: shapely.MultiPolygon
    ring: shapely.MultiPolygon
    control: shapely.MultiPolygon
    action_on: dt.date
    days: int
    buffer_m: float
    category: str | None
    counts: Counts
    measures: Measures
    computed_at: dt.datetime
    computed_by: int | None

    @property
    def reading(self) -> str:
        return self.measures.reading

    @property
    def before(self) -> tuple[dt.date, dt.date]:
        return periods(self.action_on, self.days)[0]

    @property
    def after(self) -> tuple[dt.date, dt.date]:
        return periods(self.action_on, self.days)[1]


def save_assessment(bind: Engine | Connection, assessment: Assessment, *, gpo_id: int | None = None,
                    problem_id: int | None = None, zone_id: int | None = None, action_id: int | None = None,
                    label: str | None = None, user_id: int | None = None) -> int:
    """Keep ``assessment`` (its areas, parameters and counts) in the table ``assessment``; its id."""
    a, c = assessment, assessment.counts
    with transaction(bind) as conn:
        return conn.execute(sa.text("""
            INSERT INTO assessment (gpo_id, problem_id, zone_id, action_id, label, area, ring, control, action_on,
                                    days, buffer_m, category_code, rb, ra, db, da, cb, ca, computed_by)
            VALUES (:gpo_id, :problem_id, :zone_id, :action_id, :label, ST_GeomFromWKB(:area, 2154),
                    ST_GeomFromWKB(:ring, 2154), ST_GeomFromWKB(:control, 2154), :action_on, :days, :buffer_m,
                    :category, :rb, :ra, :db, :da, :cb, :ca, :user_id)
            RETURNING id"""), {
            "gpo_id": gpo_id, "problem_id": problem_id, "zone_id": zone_id, "action_id": action_id, "label": label,
            "area": shapely.to_wkb(a.area), "ring": _wkb_or_none(a.ring), "control": _wkb_or_none(a.control),
            "action_on": a.action_on, "days": a.days, "buffer_m": a.buffer_m, "category": a.category,
            **dataclasses.asdict(c), "user_id": user_id}).scalar_one()


def _wkb_or_none(geometry) -> bytes | None:
    return None if geometry is None or geometry.is_empty else shapely.to_wkb(geometry)


def last_assessments(bind: Engine | Connection, gpo_id: int, limit: int = 5) -> list[StoredAssessment]:
    """The GPO's last ``limit`` assessments, the newest first (those the bind may see)."""
    with connection(bind) as conn:
        rows = conn.execute(sa.text("""
            SELECT id, gpo_id, problem_id, zone_id, action_id, label, ST_AsBinary(area) AS area,
                   ST_AsBinary(ring) AS ring, ST_AsBinary(control) AS control, action_on, days, buffer_m,
                   category_code, rb, ra, db, da, cb, ca, computed_at, computed_by
            FROM assessment WHERE gpo_id = :gpo_id ORDER BY computed_at DESC, id DESC LIMIT :limit"""),
            {"gpo_id": gpo_id, "limit": limit}).mappings().all()
    return [_stored(r) for r in rows]


def _stored(r) -> StoredAssessment:
    counts = Counts(r["rb"], r["ra"], r["db"], r["da"], r["cb"], r["ca"])
    ring = _geometry(r["ring"])
    return StoredAssessment(
        r["id"], r["gpo_id"], r["problem_id"], r["zone_id"], r["action_id"], r["label"], _geometry(r["area"]), ring,
        _geometry(r["control"]), r["action_on"], r["days"], r["buffer_m"], r["category_code"], counts,
        measures(counts, with_ring=not ring.is_empty), r["computed_at"], r["computed_by"])


def _geometry(wkb) -> shapely.MultiPolygon:
    return shapely.MultiPolygon() if wkb is None else as_multipolygon(shapely.from_wkb(bytes(wkb)))


def to_json(assessment: Assessment | StoredAssessment) -> dict:
    """The counts, the measures (None where undefined) and the reading, as one object of 11 keys.

    >>> from types import SimpleNamespace
    >>> counts = Counts(rb=40, ra=20, db=30, da=45, cb=400, ca=500)
    >>> to_json(SimpleNamespace(counts=counts, measures=measures(counts)))["WDQ"]
    -0.25
    """
    c, m = assessment.counts, assessment.measures
    return {"Rb": c.rb, "Ra": c.ra, "Db": c.db, "Da": c.da, "Cb": c.cb, "Ca": c.ca,
            "GE": m.ge, "NE": m.ne, "WDQ": m.wdq, "TNE": m.tne, "reading": m.reading}


__all__ = ["ALPHA", "BUFFER_RANGE_M", "DAYS_RANGE", "Assessment", "AssessmentError", "Counts", "Measures",
           "StoredAssessment", "assess", "count_occurrences", "default_control", "default_ring", "last_assessments",
           "measures", "periods", "read_area", "save_assessment", "to_json"]
