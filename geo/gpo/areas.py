"""The areas a GPO assesses: a problem's place or a patrol zone of its sectors, as polygons in EPSG:2154.

A polygonal problem (a square, a housing estate) is assessed on its polygon; a point (a
building hall) or a line (a street, a bus line) on the area within ``PLACE_BUFFER_M`` of it.
A patrol zone is its polygon. Each is looked up under the caller's scope (the request's
connection: row-level security) and must belong to one of the GPO's sectors.
"""

from __future__ import annotations

import dataclasses

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.scopes import as_multipolygon
from geo.db.unit_of_work import connection
from geo.errors import NotFound
from geo.gpo.groups import Gpo

#: Around a point or a line problem, the area assessed (the recurrence of the agenda counts within 150 m too).
PLACE_BUFFER_M = 150.0


@dataclasses.dataclass(frozen=True)
class AssessableArea:
    """An area one may assess: what it is (``problem`` or ``zone``), its id, a label and its category."""

    kind: str
    id: int
    label: str
    category_code: str | None
    geometry: shapely.MultiPolygon | None = None


def assessable_areas(bind: Engine | Connection, gpo: Gpo) -> list[AssessableArea]:
    """The problems (every status) and the patrol zones of the GPO's sectors, without their geometries."""
    with connection(bind) as conn:
        query = _AREAS_SQL.format(problem_geometry="NULL", zone_geometry="NULL")
        rows = conn.execute(sa.text(query), {"keys": list(gpo.sector_keys), "kind": None, "id": None}).all()
    return [AssessableArea(*r[:4]) for r in rows]


def assessable_area(bind: Engine | Connection, gpo: Gpo, kind: str, area_id: int) -> AssessableArea:
    """One problem's or zone's area with its geometry; NotFound (404) when it is not one of the GPO's."""
    with connection(bind) as conn:
        query = _AREAS_SQL.format(problem_geometry=_GEOMETRY.format(t="p"), zone_geometry=_GEOMETRY.format(t="z"))
        row = conn.execute(sa.text(query),
                           {"keys": list(gpo.sector_keys), "kind": kind, "id": area_id, "buffer": PLACE_BUFFER_M}
                           ).first()
    if row is None:
        what = "problème" if kind == "problem" else "zone"
        raise NotFound(f"Aucun{'e' if kind == 'zone' else ''} {what} n° {area_id} dans les secteurs du GPO {gpo.name}.")
    return AssessableArea(row[0], row[1], row[2], row[3], as_multipolygon(shapely.from_wkb(bytes(row[4]))))


_GEOMETRY = ("ST_AsBinary(CASE WHEN GeometryType({t}.geom) IN ('POLYGON', 'MULTIPOLYGON') THEN {t}.geom "
             "ELSE ST_Buffer({t}.geom, :buffer) END)")
_AREAS_SQL = """
    SELECT * FROM (
        SELECT 'problem' AS kind, p.id, p.title AS label, p.category_code, {problem_geometry} AS geom
        FROM problem p JOIN sector s ON s.id = p.sector_id
        WHERE (s.csp_id || ':' || s.code) = ANY (CAST(:keys AS text[]))
        UNION ALL
        SELECT 'zone', z.id, 'Zone n° ' || z.id || ' – ' || z.reason, z.category_code, {zone_geometry}
        FROM patrol_zone z
        WHERE (z.csp_id || ':' || z.sector_code) = ANY (CAST(:keys AS text[])) AND z.deleted_at IS NULL
    ) a
    WHERE (CAST(:kind AS text) IS NULL OR a.kind = :kind) AND (CAST(:id AS integer) IS NULL OR a.id = :id)
    ORDER BY a.kind, a.label, a.id"""


__all__ = ["PLACE_BUFFER_M", "AssessableArea", "assessable_area", "assessable_areas"]
