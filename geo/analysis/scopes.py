"""The places an analysis covers: the sectors valid on a day, and the scope of a hotspot run.

Sectors have a history (``valid_from`` included, ``valid_to`` excluded, no ``valid_to``:
still in force). Every caller that needs "the sector valid on a day" — the sector page,
its JSON endpoints, the stored runs, the patrol zones and their checks — reads it through
:func:`sectors_on_day`, the one query ``sql/queries/sector_on_day.sql``: by CSP (id or
name), sector code and a user's sector keys, any of them. :func:`area_on_day` is the union
of what it finds (a CSP, the sectors a user may see).

A scope is a sector (as drawn on the last day of the period), a CSP (the union of its
sectors on that day), a commune, or a polygon drawn by a user (WKT in lon/lat).

Examples
--------
>>> sector = Sector(1, 1, "CSP Belfort", "BEL-CENTRE", "Centre", shapely.box(0, 0, 400, 200))
>>> sector.geometry.geom_type, sector.scope().label
('MultiPolygon', 'sector:BEL-CENTRE')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import geopandas as gpd
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import HotspotInputError
from geo.db.queries import named_query
from geo.db.unit_of_work import connection
from geo.settings import SRID
from geo.territory.projections import METROPOLITAN_SRID


def as_multipolygon(geometry) -> shapely.MultiPolygon:
    """A Polygon as a one-part MultiPolygon; a MultiPolygon as it is.

    >>> as_multipolygon(shapely.box(0, 0, 1, 1)).geom_type
    'MultiPolygon'
    """
    return geometry if geometry.geom_type == "MultiPolygon" else shapely.MultiPolygon([geometry])


@dataclasses.dataclass(frozen=True)
class Scope:
    kind: str  # sector, csp, commune, polygon
    ref: str  # code, name, INSEE code, or "drawn"
    geometry: shapely.MultiPolygon  # EPSG:2154

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclasses.dataclass(frozen=True)
class Sector:
    """One version of a sector: ids, names and its geometry in EPSG:2154 (always a MultiPolygon)."""

    id: int
    csp_id: int
    csp_name: str
    code: str
    name: str
    geometry: shapely.MultiPolygon

    def __post_init__(self):
        object.__setattr__(self, "geometry", as_multipolygon(self.geometry))

    def frame(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"code": [self.code], "name": [self.name]}, geometry=[self.geometry], crs=SRID)

    def scope(self) -> Scope:
        """The sector as the scope of an analysis."""
        return Scope("sector", self.code, self.geometry)


def sectors_on_day(bind: Engine | Connection, day: dt.date, *, csp_id: int | None = None, csp: str | None = None,
                   code: str | None = None, keys: Sequence[str] | None = None) -> list[Sector]:
    """The sector versions valid on ``day``, by CSP id, CSP name, code and sector keys (None: any).

    ``keys``: ``'csp_id:code'`` of the sectors a user may see (an empty list: none, fail
    closed). Ordered by CSP id, then code.
    """
    rows = _sector_rows(bind, day, True, csp_id=csp_id, csp=csp, code=code, keys=keys)
    return [Sector(r.id, r.csp_id, r.csp_name, r.code, r.name, shapely.from_wkb(bytes(r.geom))) for r in rows]


@dataclasses.dataclass(frozen=True)
class SectorName:
    """A sector version without its geometry: what a list or a menu needs."""

    id: int
    csp_id: int
    csp_name: str
    code: str
    name: str


def sector_names_on_day(bind: Engine | Connection, day: dt.date, *, keys: Sequence[str] | None = None
                        ) -> list[SectorName]:
    """:func:`sectors_on_day` without the geometries (which the database then never reads): ids and names."""
    return [SectorName(r.id, r.csp_id, r.csp_name, r.code, r.name) for r in _sector_rows(bind, day, False, keys=keys)]


def _sector_rows(bind: Engine | Connection, day: dt.date, with_geom: bool, *, csp_id: int | None = None,
                 csp: str | None = None, code: str | None = None, keys: Sequence[str] | None = None):
    with connection(bind) as conn:
        return conn.execute(named_query("sector_on_day"), {
            "day": day, "csp_id": csp_id, "csp": csp, "code": code, "with_geom": with_geom,
            "keys": None if keys is None else list(keys)}).all()


def sector_on_day(bind: Engine | Connection, day: dt.date, **which) -> Sector | None:
    """The first of :func:`sectors_on_day` (by CSP id), or None when no sector matches."""
    found = sectors_on_day(bind, day, **which)
    return found[0] if found else None


def area_on_day(bind: Engine | Connection, day: dt.date, **which) -> shapely.MultiPolygon:
    """The union of :func:`sectors_on_day` as a MultiPolygon in EPSG:2154, empty when no sector matches."""
    found = sectors_on_day(bind, day, **which)
    if not found:
        return shapely.MultiPolygon()
    return as_multipolygon(shapely.union_all([s.geometry for s in found]))


def parse_scope(bind: Engine | Connection, text: str, day: dt.date) -> Scope:
    """``sector:CODE``, ``csp:NAME``, ``commune:INSEE`` or ``polygon:WKT`` (lon/lat).

    Raises HotspotInputError naming what was not found.
    """
    kind, sep, ref = text.partition(":")
    kind, ref = kind.strip().lower(), ref.strip()
    if not sep or not ref or kind not in ("sector", "csp", "commune", "polygon"):
        raise HotspotInputError(
            f"scope '{text}': write sector:CODE, csp:NAME, commune:INSEE or polygon:WKT (in lon/lat)"
        )
    if kind == "polygon":
        return Scope("polygon", "drawn", _drawn_polygon(ref))
    if kind in ("sector", "csp"):
        return _named_scope(bind, kind, ref, day)
    else:
        with connection(bind) as conn:
            found = conn.execute(sa.text("SELECT ST_AsBinary(geom) FROM commune WHERE insee = :ref"),
                                 {"ref": ref}).scalar()
        geometry = None if found is None else shapely.from_wkb(bytes(found))
    if geometry is None:
        raise HotspotInputError(f"no commune with INSEE code {ref} is loaded")
    return Scope(kind, ref, as_multipolygon(geometry))


def _named_scope(bind: Engine | Connection, kind: str, ref: str, day: dt.date) -> Scope:
    """A sector (by code) or a CSP (by name) as in force on ``day``, in any case; an unknown one is refused with
    the list of those in force then."""
    valid = sectors_on_day(bind, day)
    name = (lambda s: s.code) if kind == "sector" else (lambda s: s.csp_name)
    chosen = [s for s in valid if name(s).casefold() == ref.casefold()]
    names = sorted({name(s) for s in chosen})
    if len(names) > 1:  # codes differing only by case: the user must write one exactly
        chosen = [s for s in chosen if name(s) == ref]
    if kind == "sector" and len({s.csp_id for s in chosen}) > 1:
        raise HotspotInputError(f"sector code {ref} is used by several CSPs on {day} "
                                f"({', '.join(sorted({s.csp_name for s in chosen}))}): name the CSP with csp:NAME")
    if not chosen:
        known = ", ".join(sorted({name(s) for s in valid})) or "none"
        what = f"no sector with code {ref} was valid on {day}" if kind == "sector" else \
            f"no CSP named {ref} had sectors on {day}"
        raise HotspotInputError(f"{what}; {'the codes' if kind == 'sector' else 'the CSPs'} then: {known}")
    label = name(chosen[0])
    return Scope(kind, label, as_multipolygon(shapely.union_all([s.geometry for s in chosen])))


def _drawn_polygon(text: str) -> shapely.MultiPolygon:
    try:
        shape = shapely.from_wkt(text)
    except shapely.errors.GEOSException:
        raise HotspotInputError(f"the drawn polygon is not WKT: {text[:60]}") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
        raise HotspotInputError("the drawn scope must be a valid polygon in lon/lat")
    return as_multipolygon(shapely.transform(shape, _to_l93, interleaved=False))


def _to_l93(x, y):
    return Transformer.from_crs(4326, METROPOLITAN_SRID, always_xy=True).transform(x, y)


__all__ = ["Scope", "Sector", "SectorName", "area_on_day", "as_multipolygon", "parse_scope", "sector_names_on_day",
           "sector_on_day", "sectors_on_day"]
