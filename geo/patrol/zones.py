"""Patrol-focus zones: polygons a sector chief draws to concentrate patrols (DESIGN.md sections 1 and 4).

A zone belongs to a sector *code* of a CSP, has a reason, validity dates (both
included; no end: open-ended), time slots such as ``ven-sam 20:00-02:00`` and linked
problems. Writes are checked here (no Flask): each refusal is a :class:`ZoneError`
whose message is one French sentence for the user, and nothing is stored then. Every
write goes to ``audit_log``. A withdrawn zone is kept (``deleted_at``).

Analysis: :func:`zone_contents` (occurrences by category inside a zone and the
significant Gi* hot cells of its sector that it covers) and :func:`suggest_zones`
(candidate polygons: buffered hot cells and DBSCAN cluster hulls). Gi* and DBSCAN are
those of `geo.analysis.methods`, the paths of the sector page and the stored runs; the
sectors valid on a day come from `geo.analysis.scopes`.

Examples
--------
>>> parse_time_slots("ven-sam 20:00-02:00; lun,mer 08:00-12:00")
[{'days': ['ven', 'sam'], 'start': '20:00', 'end': '02:00'}, {'days': ['lun', 'mer'], 'start': '08:00', 'end': '12:00'}]
>>> format_time_slots(parse_time_slots("lun-ven 7h-9h30"))
'lun-ven 07:00-09:30'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from shapely import geometry as sgeom
from shapely.validation import explain_validity
from sqlalchemy.engine import Connection, Engine

from geo.accounts.policy import permission_allowed
from geo.accounts.users import UserScope
from geo.analysis.hotspots import Grid
from geo.analysis.methods import cell_squares, dbscan_clusters, gistar_cells
from geo.analysis.points import fetch_points
from geo.analysis.scopes import area_on_day, sector_on_day
from geo.db.audit import audit
from geo.db.queries import named_query
from geo.db.unit_of_work import connection, transaction
from geo.errors import Forbidden, NotFound, PsqError
from geo.formats import day as fr_day
from geo.formats import number as fr_number
from geo.problems.categories import categories, resolve
from geo.settings import CELL_SIZE_M, DAYS_ACCEPTED, LOCAL_TZ, last_days, local_today

DAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
#: Share of a zone's area (or m², whichever is larger) that may lie outside the user's sectors.
OUTSIDE_SHARE = 0.05
OUTSIDE_M2 = 50.0
MAX_AREA_M2 = 4_000_000.0
MIN_AREA_M2 = 100.0
#: Bounded input: what a drawn zone may hold at most (a hand-drawn zone has tens of vertices).
MAX_VERTICES = 10_000
MAX_PARTS = 50
MAX_REASON_CHARS = 2_000
MAX_TIME_SLOTS = 50
MAX_PROBLEMS = 500
SUGGESTION_BUFFER = 50.0
#: A suggestion needs at least this many occurrences: a zone worth a patrol, not a handful of events.
MIN_SUGGESTION_OCCURRENCES = 10

_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
_TO_WGS = Transformer.from_crs(2154, 4326, always_xy=True)


# -- errors --------------------------------------------------------------------
class ZoneError(PsqError, ValueError):
    """A zone refused; the message is one French sentence for the user (HTTP 400)."""


class ZoneForbidden(ZoneError, Forbidden):
    """The user may not act on this sector (HTTP 403)."""

    status = 403


class ZoneNotFound(ZoneError, NotFound):
    """No such zone, withdrawn, or in a sector the user may not see (HTTP 404)."""

    status = 404


@dataclasses.dataclass(frozen=True)
class Period:
    """Local days, both included."""

    first: dt.date
    last: dt.date

    @classmethod
    def last_days(cls, days: int = 365, today: dt.date | None = None) -> Period:
        """The ``days`` complete days ending yesterday (geo.settings.last_days, every page's default)."""
        return cls(*last_days(days, today))


# -- time slots ----------------------------------------------------------------
_SLOT = re.compile(r"^\s*(?P<days>[a-zé,\-\s]+?)\s+(?P<start>\d{1,2}(?:[h:]\d{0,2})?)\s*-\s*"
                   r"(?P<end>\d{1,2}(?:[h:]\d{0,2})?)\s*$")
_EXAMPLE = "écrivez par exemple « ven-sam 20:00-02:00 » (jours lun, mar, mer, jeu, ven, sam, dim)"


def _day(token: str, slot: str) -> int:
    key = token.strip()[:3]
    if key not in DAYS:
        raise ZoneError(f"Créneau « {slot} » : jour « {token.strip()} » inconnu ; {_EXAMPLE}.")
    return DAYS.index(key)


def _days(text: str, slot: str) -> list[str]:
    found: list[int] = []
    for part in text.split(","):
        first, sep, last = part.partition("-")
        a = _day(first, slot)
        b = _day(last, slot) if sep else a
        span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        found.extend(d for d in span if d not in found)
    return [DAYS[d] for d in found]


def _clock(text: str, slot: str) -> str:
    hours, _, minutes = text.replace("h", ":").partition(":")
    h, m = int(hours), int(minutes or 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ZoneError(f"Créneau « {slot} » : l'heure « {text} » n'existe pas ; {_EXAMPLE}.")
    return f"{h % 24:02d}:{m:02d}"


def parse_time_slot(slot: str) -> dict:
    """One slot ``JOURS HH:MM-HH:MM`` as ``{"days": [...], "start": "HH:MM", "end": "HH:MM"}``.

    An end before the start runs past midnight (``ven 20:00-02:00``).

    >>> parse_time_slot("Vendredi-Dimanche 22h-4h")
    {'days': ['ven', 'sam', 'dim'], 'start': '22:00', 'end': '04:00'}
    >>> parse_time_slot("ven 20:00")
    Traceback (most recent call last):
    ...
    geo.patrol.zones.ZoneError: Créneau « ven 20:00 » illisible : écrivez par exemple « ven-sam 20:00-02:00 » (jours lun, mar, mer, jeu, ven, sam, dim).
    """
    match = _SLOT.match(slot.lower())
    if not match:
        raise ZoneError(f"Créneau « {slot.strip()} » illisible : {_EXAMPLE}.")
    start, end = _clock(match["start"], slot.strip()), _clock(match["end"], slot.strip())
    if start == end:
        raise ZoneError(f"Créneau « {slot.strip()} » : le début et la fin sont à la même heure.")
    return {"days": _days(match["days"], slot.strip()), "start": start, "end": end}


def parse_time_slots(value: str | Iterable | None) -> list[dict]:
    """Slots from text (separated by ``;`` or new lines) or from a list of texts or dicts; at most
    ``MAX_TIME_SLOTS``.

    >>> parse_time_slots(5)
    Traceback (most recent call last):
    ...
    geo.patrol.zones.ZoneError: Les créneaux sont un texte (« ven-sam 20:00-02:00 ») ou une liste de textes.
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = [s for s in re.split(r"[;\n]", value) if s.strip()]
    if not isinstance(value, (list, tuple)):
        raise ZoneError("Les créneaux sont un texte (« ven-sam 20:00-02:00 ») ou une liste de textes.")
    if len(value) > MAX_TIME_SLOTS:
        raise ZoneError(f"{fr_number(len(value))} créneaux : au plus {MAX_TIME_SLOTS} par zone.")
    if not all(isinstance(s, (str, dict)) for s in value):
        raise ZoneError("Chaque créneau est un texte, par exemple « lun-ven 16:00-19:00 ».")
    return [parse_time_slot(s if isinstance(s, str) else format_time_slots([s])) for s in value]


def _days_text(days: list[str]) -> str:
    idx = [DAYS.index(d) for d in days]
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{days[0]}-{days[-1]}"
    if len(idx) == 2 and idx[1] == idx[0] + 1:
        return f"{days[0]}-{days[1]}"
    return ",".join(days)


def format_time_slots(slots: list[dict]) -> str:
    """The text form of stored slots, ``; `` between slots."""
    try:
        return "; ".join(f"{_days_text(list(s['days']))} {s['start']}-{s['end']}" for s in slots)
    except (KeyError, TypeError, ValueError):
        raise ZoneError(f"Créneau illisible : {_EXAMPLE}.") from None


# -- checks ------------------------------------------------------------------
def _area_text(m2: float) -> str:
    # The refusals name areas in m² and km² (what a zone's limits are written in), not in ha.
    return f"{fr_number(m2 / 1e6, 2)} km²" if m2 >= 100_000 else f"{fr_number(m2)} m²"


def parse_geometry(value) -> shapely.MultiPolygon:
    """A GeoJSON geometry (or Feature) in lon/lat, checked, as a MultiPolygon in EPSG:2154."""
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    try:
        shape = sgeom.shape(value)
    except Exception:  # noqa: BLE001 - anything unreadable is refused the same way
        raise ZoneError("La zone n'est pas une géométrie lisible : dessinez un polygone sur la carte.") from None
    vertices = shapely.get_num_coordinates(shape)
    if vertices > MAX_VERTICES:
        raise ZoneError(f"La zone a {fr_number(vertices)} sommets : au plus {fr_number(MAX_VERTICES)} (simplifiez "
                        "son contour).")
    if len(getattr(shape, "geoms", [shape])) > MAX_PARTS:
        raise ZoneError(f"La zone a {fr_number(len(shape.geoms))} parties : au plus {MAX_PARTS}.")
    lon, lat = shapely.get_coordinates(shape).T
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()
            and (np.abs(lon) <= 180).all() and (np.abs(lat) <= 90).all()):
        raise ZoneError("La zone a des coordonnées impossibles : longitude entre -180 et 180, latitude entre -90 "
                        "et 90, en degrés.")
    if shape.geom_type not in ("Polygon", "MultiPolygon") or shape.is_empty:
        raise ZoneError(f"Une zone de patrouille doit être un polygone, pas un objet de type {shape.geom_type}.")
    _check_valid(shape)
    projected = shapely.transform(shape, lambda xy: np.column_stack(_TO_L93.transform(xy[:, 0], xy[:, 1])))
    return projected if projected.geom_type == "MultiPolygon" else shapely.MultiPolygon([projected])


def _check_valid(shape) -> None:
    if shape.is_valid:
        return
    reason = explain_validity(shape)
    where = re.search(r"\[(-?[\d.]+) (-?[\d.]+)\]", reason)
    place = f" près du point {float(where[2]):.5f} N, {float(where[1]):.5f} E" if where else ""
    if "Self-intersection" in reason:
        raise ZoneError(f"Le contour de la zone se recoupe lui-même{place} : redessinez-la sans croisement.")
    raise ZoneError(f"Le polygone n'est pas valide{place} ({reason.split('[')[0]}) : redessinez-le.")


def _date(value, label: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ZoneError(f"La date {label} « {value} » n'est pas une date valide (format AAAA-MM-JJ).") from None
    first, last = DAYS_ACCEPTED
    if not first <= day <= last:
        raise ZoneError(f"La date {label} ({fr_day(day)}) est hors des années {first.year} à {last.year}.")
    return day


def check_fields(reason, valid_from, valid_to, time_slots) -> dict:
    """Reason, dates and slots checked; returns them ready to store."""
    if reason is not None and not isinstance(reason, str):
        raise ZoneError("Le motif de la zone est un texte.")
    reason = (reason or "").strip()
    if not reason:
        raise ZoneError("Indiquez le motif de la zone : il est affiché au briefing des patrouilles.")
    if len(reason) > MAX_REASON_CHARS:
        raise ZoneError(f"Le motif fait {fr_number(len(reason))} caractères : au plus {fr_number(MAX_REASON_CHARS)}.")
    first = _date(valid_from, "de début") or local_today()
    last = _date(valid_to, "de fin")
    if last is not None and last < first:
        raise ZoneError(f"La fin de validité ({last:%d/%m/%Y}) précède le début ({first:%d/%m/%Y}).")
    return {"reason": reason, "valid_from": first, "valid_to": last, "time_slots": parse_time_slots(time_slots)}


def visible_sectors(scope: UserScope) -> list[str] | None:
    """The sectors a user may see as ``'csp_id:code'`` keys for the queries; None: every sector.

    The queries clip to these keys themselves, so that nothing outside the user's
    sectors is read even if a caller forgets a check.

    >>> from geo.accounts.users import SectorRef
    >>> visible_sectors(UserScope("chef_secteur", sectors=(SectorRef(1, "CSP Belfort", "BEL-CENTRE"),)))
    ['1:BEL-CENTRE']
    >>> visible_sectors(UserScope("maire", commune_insee="90010")), visible_sectors(UserScope("admin"))
    ([], None)
    """
    return None if scope.sees_everything else list(scope.sector_keys)


def allowed_area(bind: Engine | Connection, scope: UserScope, csp_id: int | None = None,
                 day: dt.date | None = None) -> shapely.MultiPolygon:
    """The union of the user's sectors valid on a day (default today; in one CSP if given; every sector for
    admin), EPSG:2154; empty for a user with no sector (fail closed)."""
    return area_on_day(bind, day or local_today(), csp_id=csp_id, keys=visible_sectors(scope))


def check_geometry(conn: Connection, scope: UserScope, csp_id: int, geom) -> None:
    """Not too small nor absurdly large, every part in the user's sectors, the border crossed a little only.

    The tolerance (``OUTSIDE_SHARE`` of the area, or ``OUTSIDE_M2``) is for a border
    drawn a little outside: it applies to parts that lie in his sectors. A part that
    does not overlap them at all (a detached square in another sector) is refused
    whatever its size.
    """
    area = geom.area
    if area < MIN_AREA_M2:
        raise ZoneError(f"La zone ne couvre que {_area_text(area)} : dessinez au moins {fr_number(MIN_AREA_M2)} m².")
    allowed = allowed_area(conn, scope, csp_id)
    if area > MAX_AREA_M2 or (not allowed.is_empty and area > allowed.area):
        limit = min(MAX_AREA_M2, allowed.area or MAX_AREA_M2)
        raise ZoneError(f"La zone couvre {_area_text(area)} : c'est trop pour une zone de patrouille "
                        f"(au plus {_area_text(limit)}, et jamais plus que vos secteurs).")
    parts = list(geom.geoms)
    for number, part in enumerate(parts if len(parts) > 1 else (), start=1):
        if allowed.is_empty or part.intersection(allowed).area <= 0:
            raise ZoneError(f"La partie n° {number} de la zone ({_area_text(part.area)}) est entièrement hors de vos "
                            f"secteurs : dessinez chaque partie d'une zone dans vos secteurs.")
    outside = geom.difference(allowed).area
    if outside > max(OUTSIDE_SHARE * area, OUTSIDE_M2):
        raise ZoneError(f"La zone sort de vos secteurs sur {_area_text(outside)} "
                        f"({fr_number(100 * outside / area)} % de sa surface) : dessinez-la dans vos secteurs.")


def _sector_access(scope: UserScope, csp_id: int, code: str) -> None:
    if not permission_allowed(scope, "zone.edit"):
        raise ZoneForbidden("Les zones de patrouille sont réservées aux chefs de secteur et aux administrateurs.")
    if not permission_allowed(scope, "zone.edit", (csp_id, code)):
        raise ZoneForbidden(f"Vous n'avez pas accès au secteur {code}.")


def _check_sector_exists(conn: Connection, csp_id: int, code: str) -> None:
    found = conn.execute(sa.text("SELECT 1 FROM sector WHERE csp_id = :csp AND code = :code LIMIT 1"),
                         {"csp": csp_id, "code": code}).first()
    if found is None:
        raise ZoneNotFound(f"Aucun secteur {code} dans cette circonscription.")


def _check_problems(conn: Connection, csp_id: int, code: str, ids) -> list[int]:
    if ids is not None and not isinstance(ids, (list, tuple)):
        raise ZoneError("Les problèmes liés sont une liste de numéros.")
    if ids and len(ids) > MAX_PROBLEMS:
        raise ZoneError(f"{fr_number(len(ids))} problèmes liés : au plus {fr_number(MAX_PROBLEMS)}.")
    try:
        wanted = sorted({int(i) for i in ids or ()})
    except (TypeError, ValueError, OverflowError):
        raise ZoneError("Les problèmes liés doivent être désignés par leur numéro.") from None
    rows = conn.execute(named_query("patrol_sector_problems"), {"csp": csp_id, "code": code}).all()
    known = {r.id for r in rows}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise ZoneError(f"Le problème n° {unknown[0]} n'est pas un problème du secteur {code}.")
    return wanted


# -- writes --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Actor:
    """Who writes: his scope (for the checks), his account id and address (for the audit log)."""

    scope: UserScope
    user_id: int | None
    ip: str | None = None


def create_zone(engine: Engine, actor: Actor, csp_id: int, sector_code: str, data: dict) -> dict:
    """Check and store a new zone; return it as :func:`get_zone` does.

    ``data``: ``geometry`` (GeoJSON, lon/lat), ``reason``, ``valid_from``, ``valid_to``,
    ``time_slots`` (text or list), ``problem_ids``, ``category`` (the code of the one
    category the zone follows, as a suggestion of hot cells gives it; absent: every
    category). A zone that follows a category is linked to that category's problems
    inside it, besides ``problem_ids``.
    """
    _sector_access(actor.scope, csp_id, sector_code)
    with transaction(engine) as conn:
        _check_sector_exists(conn, csp_id, sector_code)
        fields = check_fields(data.get("reason"), data.get("valid_from"), data.get("valid_to"), data.get("time_slots"))
        category = check_category(data.get("category"))
        geom = parse_geometry(data.get("geometry"))
        check_geometry(conn, actor.scope, csp_id, geom)
        problems = _check_problems(conn, csp_id, sector_code, data.get("problem_ids"))
        problems = sorted(set(problems) | set(_problems_inside(conn, csp_id, sector_code, category, geom)))
        zone_id = conn.execute(named_query("patrol_zone_insert"), {
            "csp": csp_id, "code": sector_code, "geom": shapely.to_wkb(geom), "author": actor.user_id,
            **fields, "time_slots": json.dumps(fields["time_slots"]), "category": category}).scalar_one()
        _link_problems(conn, zone_id, problems)
        audit(conn, "patrol_zone.create", user_id=actor.user_id, target=f"patrol_zone:{zone_id}", ip=actor.ip,
              details={"sector": sector_code, "csp_id": csp_id, "area_m2": round(geom.area), **_audit_fields(fields),
                       "category": category, "problem_ids": problems})
    return get_zone(engine, actor.scope, zone_id)


def update_zone(engine: Engine, actor: Actor, zone_id: int, data: dict) -> dict:
    """Change a zone's geometry and/or fields (missing keys keep their value)."""
    current = _zone_for_write(engine, actor, zone_id)
    merged = {**current, **{k: v for k, v in data.items() if k in _EDITABLE}}
    with transaction(engine) as conn:
        fields = check_fields(merged["reason"], merged["valid_from"], merged["valid_to"], merged["time_slots"])
        category = check_category(merged["category"])
        geom = parse_geometry(merged["geometry"])
        check_geometry(conn, actor.scope, current["csp_id"], geom)
        problems = _check_problems(conn, current["csp_id"], current["sector_code"], merged["problem_ids"])
        conn.execute(named_query("patrol_zone_update"), {
            "id": zone_id, "geom": shapely.to_wkb(geom), **fields, "time_slots": json.dumps(fields["time_slots"]),
            "category": category})
        conn.execute(sa.text("DELETE FROM patrol_zone_problem WHERE zone_id = :id"), {"id": zone_id})
        _link_problems(conn, zone_id, problems)
        audit(conn, "patrol_zone.update", user_id=actor.user_id, target=f"patrol_zone:{zone_id}", ip=actor.ip,
              details={"changed": sorted(k for k in data if k in _EDITABLE), "area_m2": round(geom.area),
                       **_audit_fields(fields), "problem_ids": problems})
    return get_zone(engine, actor.scope, zone_id)


def delete_zone(engine: Engine, actor: Actor, zone_id: int) -> dict:
    """Withdraw a zone (soft delete: kept for history)."""
    current = _zone_for_write(engine, actor, zone_id)
    with transaction(engine) as conn:
        conn.execute(sa.text("UPDATE patrol_zone SET deleted_at = now(), updated_at = now() WHERE id = :id"),
                     {"id": zone_id})
        audit(conn, "patrol_zone.delete", user_id=actor.user_id, target=f"patrol_zone:{zone_id}", ip=actor.ip,
              details={"sector": current["sector_code"], "reason": current["reason"]})
    return {"id": zone_id, "deleted": True}


_EDITABLE = ("geometry", "reason", "valid_from", "valid_to", "time_slots", "problem_ids", "category")


def _audit_fields(fields: dict) -> dict:
    return {"reason": fields["reason"], "valid_from": fields["valid_from"], "valid_to": fields["valid_to"],
            "time_slots": fields["time_slots"]}


def check_category(code) -> str | None:
    """The category a zone follows: a known code (or label, any case), or None for every category.

    >>> check_category("Stupéfiants"), check_category(None), check_category("")
    ('stupefiants', None, None)
    >>> check_category("météo")
    Traceback (most recent call last):
    ...
    geo.patrol.zones.ZoneError: Catégorie inconnue : « météo ».
    """
    if code in (None, ""):
        return None
    found = resolve(str(code)) if isinstance(code, str) else None
    if found is None:
        raise ZoneError(f"Catégorie inconnue : « {code} ».")
    return found


def _problems_inside(conn: Connection, csp_id: int, code: str, category: str | None, geom) -> list[int]:
    """The sector's problems of ``category`` lying in ``geom`` (none without a category)."""
    if category is None:
        return []
    return list(conn.execute(named_query("patrol_zone_problems_inside"), {
        "csp": csp_id, "code": code, "category": category, "geom": shapely.to_wkb(geom)}).scalars())


def _link_problems(conn: Connection, zone_id: int, problems: list[int]) -> None:
    for pid in problems:
        conn.execute(sa.text("INSERT INTO patrol_zone_problem (zone_id, problem_id) VALUES (:z, :p)"),
                     {"z": zone_id, "p": pid})


def _zone_for_write(engine: Engine, actor: Actor, zone_id: int) -> dict:
    """The zone if the user may change it. Another sector's zone is not found (404), like an unknown id."""
    zone = get_zone(engine, actor.scope, zone_id)
    _sector_access(actor.scope, zone["csp_id"], zone["sector_code"])
    return zone


# -- reads ---------------------------------------------------------------------
def _zone_dict(row) -> dict:
    geom = shapely.from_wkb(bytes(row.geom))
    return {
        "id": row.id, "csp_id": row.csp_id, "sector_code": row.sector_code, "reason": row.reason,
        "valid_from": row.valid_from.isoformat(), "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        "time_slots": row.time_slots, "time_slots_text": format_time_slots(row.time_slots),
        "problem_ids": list(row.problem_ids or []), "author": row.author, "area_m2": round(geom.area),
        "category": row.category_code, "category_label": _category_label(row.category_code),
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
        "geometry": shapely.geometry.mapping(to_wgs84(geom)),
    }


def _category_label(code: str | None) -> str | None:
    return None if code is None else next((c.label for c in categories() if c.code == code), code)


def to_wgs84(geom):
    """A Lambert-93 geometry in lon/lat (GeoJSON order)."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_WGS.transform(xy[:, 0], xy[:, 1])))


def get_zone(engine: Engine, scope: UserScope, zone_id: int) -> dict:
    """A live zone of the user's sectors as a dict (geometry as GeoJSON in lon/lat).

    ZoneNotFound if none, withdrawn, or in a sector the user may not see: the same
    answer in all three cases, so that an id tells nothing of another sector.
    """
    with connection(engine) as conn:
        row = conn.execute(named_query("patrol_zones"), {
            "id": zone_id, "csp": None, "code": None, "sectors": visible_sectors(scope)}).first()
    if row is None:
        raise ZoneNotFound(f"La zone n° {zone_id} n'existe pas ou a été retirée.")
    return _zone_dict(row)


def list_zones(engine: Engine, scope: UserScope, csp_id: int, sector_code: str) -> list[dict]:
    """The live zones of a sector the user may see, newest first (none for another sector)."""
    with connection(engine) as conn:
        rows = conn.execute(named_query("patrol_zones"), {
            "id": None, "csp": csp_id, "code": sector_code, "sectors": visible_sectors(scope)}).all()
    return [_zone_dict(r) for r in rows]


def export_zones(bind: Engine | Connection, actor: Actor, csp_id: int, sector_code: str) -> dict:
    """The live zones of a sector as GeoJSON (:func:`zones_geojson`), the export written in the audit log."""
    with transaction(bind) as conn:
        zones = list_zones(conn, actor.scope, csp_id, sector_code)
        audit(conn, "export.patrol_zones", user_id=actor.user_id, target=f"sector:{csp_id}:{sector_code}",
              details={"format": "geojson", "zones": len(zones)}, ip=actor.ip)
    return zones_geojson(zones)


def zones_geojson(zones: list[dict]) -> dict:
    """A FeatureCollection (EPSG:4326) of zones."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": z["id"], "geometry": z["geometry"],
         "properties": {k: v for k, v in z.items() if k != "geometry"}} for z in zones]}


def sector_problems(engine: Engine, csp_id: int, sector_code: str) -> list[dict]:
    """Problems of a sector (any version), for the zone form's checkboxes."""
    with connection(engine) as conn:
        rows = conn.execute(named_query("patrol_sector_problems"), {"csp": csp_id, "code": sector_code}).all()
    return [dict(r._mapping) for r in rows]


def sector_geometry(bind: Engine | Connection, csp_id: int, sector_code: str,
                    day: dt.date | None = None) -> shapely.MultiPolygon | None:
    """The sector's version valid on a day (default today), EPSG:2154; None if none."""
    sector = sector_on_day(bind, day or local_today(), csp_id=csp_id, code=sector_code)
    return None if sector is None else sector.geometry


# -- analysis --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class HotCells:
    """Significant Gi* hot cells (200 m, FDR) of a sector, one row per cell and category."""

    i: np.ndarray
    j: np.ndarray
    z: np.ndarray
    count: np.ndarray
    category: np.ndarray

    @classmethod
    def empty(cls) -> HotCells:
        return cls(*(np.empty(0, int) for _ in range(4)), np.empty(0, object))

    def squares(self) -> np.ndarray:
        return cell_squares(self.i, self.j, CELL_SIZE_M)

    def only(self, keep: np.ndarray) -> HotCells:
        return HotCells(self.i[keep], self.j[keep], self.z[keep], self.count[keep], self.category[keep])


def sector_hot_cells(engine: Engine, csp_id: int, sector_code: str, period: Period) -> HotCells:
    """Gi* per category on the sector's 200 m grid (queen neighbours, the exact test, Benjamini-Hochberg FDR at
    5 % over every category's tests together).

    Per category, because a chief works on problems of one kind: all categories mixed,
    the background of a town centre hides a dealing point. A category with fewer than 2
    occurrences in the period is left out.
    """
    sector = sector_on_day(engine, period.last, csp_id=csp_id, code=sector_code)
    if sector is None:
        return HotCells.empty()
    scope = sector.scope()
    grid = Grid.from_polygon(scope.geometry, size=CELL_SIZE_M)
    points = fetch_points(engine, scope, period.first, period.last, None)
    known, counts = np.unique(points.category, return_counts=True) if len(points.x) else ([], [])
    kept = {code for code, n in zip(known, counts) if n >= 2 and code in {c.code for c in categories()}}
    points = points.where(np.isin(points.category, list(kept)))
    if not kept or grid.n_cells < 2:
        return HotCells.empty()
    frame = gistar_cells(points, grid, apart=True).frame  # FDR over every category's tests together
    hot = frame[frame.significant & (frame.z > 0) & (frame["count"] > 0)]
    return HotCells(hot.i.to_numpy(), hot.j.to_numpy(), hot.z.to_numpy(), hot["count"].to_numpy(),
                    hot.category.to_numpy(dtype=object))


def zone_contents(engine: Engine, scope: UserScope, zone: dict, period: Period, hot: HotCells | None = None) -> dict:
    """Occurrences inside a zone and the user's sectors, by category over the period, and the hot cells it covers.

    A zone that follows one category (``zone["category"]``) counts that category only.

    The query clips the zone to the user's current sectors itself: the part of a zone
    drawn over a border is never counted, whatever the caller checked. ``hot`` may be
    given when several zones of one sector are shown (computed once); it holds the
    hot cells of the zone's sector only.
    """
    with connection(engine) as conn:
        mine = None if visible_sectors(scope) is None else shapely.to_wkb(allowed_area(conn, scope))
        rows = conn.execute(named_query("patrol_zone_contents"), {
            "id": zone["id"], "area": mine, "tz": LOCAL_TZ, "first": period.first, "last": period.last}).all()
    labels = {c.code: c.label for c in categories()}
    by_category = [{"code": r.category_code, "label": labels.get(r.category_code, r.category_code), "count": r.n}
                   for r in rows]
    hot = hot if hot is not None else sector_hot_cells(engine, zone["csp_id"], zone["sector_code"], period)
    if zone.get("category"):  # a zone that follows one category: its hot cells only
        hot = hot.only(hot.category == zone["category"])
    geom = shapely.transform(sgeom.shape(zone["geometry"]),
                             lambda xy: np.column_stack(_TO_L93.transform(xy[:, 0], xy[:, 1])))
    inside = shapely.intersects(hot.squares(), geom) if len(hot.i) else np.zeros(0, bool)
    cells = [{"i": int(i), "j": int(j), "z": round(float(z), 2), "count": int(n), "category": c,
              "label": labels.get(c, c)} for i, j, z, n, c in zip(*(getattr(hot.only(inside), f) for f in
                                                                     ("i", "j", "z", "count", "category")))]
    return {"period": {"first": period.first.isoformat(), "last": period.last.isoformat()},
            "total": sum(c["count"] for c in by_category), "by_category": by_category, "hot_cells": cells}


def suggest_zones(engine: Engine, csp_id: int, sector_code: str, period: Period,
                  hot: HotCells | None = None) -> list[dict]:
    """Candidate zones: buffered unions of the sector's hot cells, and hulls of DBSCAN clusters.

    Each candidate is clipped to the sector and kept if it holds at least
    ``MIN_SUGGESTION_OCCURRENCES`` and covers between ``MIN_AREA_M2`` and ``MAX_AREA_M2``;
    hot-cell candidates first (by category), then clusters, largest first. ``hot``: the
    sector's hot cells when already computed.
    """
    sector = sector_geometry(engine, csp_id, sector_code, period.last)
    if sector is None:
        return []
    hot = hot if hot is not None else sector_hot_cells(engine, csp_id, sector_code, period)
    found = _hot_suggestions(hot, sector) + _cluster_suggestions(engine, sector, period)
    return [{"n": n, **s} for n, s in enumerate(found, start=1)]


def _candidate(kind: str, label: str, geom, sector, weight: int, category: str | None = None) -> dict | None:
    clipped = shapely.make_valid(geom.intersection(sector))
    clipped = shapely.MultiPolygon([g for g in getattr(clipped, "geoms", [clipped]) if g.geom_type == "Polygon"])
    if weight < MIN_SUGGESTION_OCCURRENCES or not (MIN_AREA_M2 <= clipped.area <= MAX_AREA_M2):
        return None
    simple = clipped.simplify(2.0)
    return {"kind": kind, "label": label, "occurrences": weight, "area_m2": round(simple.area), "category": category,
            "geometry": shapely.geometry.mapping(to_wgs84(simple.buffer(0)))}


def _hot_suggestions(hot: HotCells, sector) -> list[dict]:
    labels = {c.code: c.label for c in categories()}
    out = []
    for category in dict.fromkeys(hot.category):
        cells = hot.only(hot.category == category)
        merged = shapely.unary_union(shapely.buffer(cells.squares(), SUGGESTION_BUFFER, join_style="mitre"))
        for part in sorted(getattr(merged, "geoms", [merged]), key=lambda g: -g.area):
            inside = shapely.intersects(cells.squares(), part)
            label = (f"{labels.get(category, category)} : {int(inside.sum())} carreau(x) chaud(s) "
                     f"Gi* (200 m, FDR 5 %)")
            out.append(_candidate("gistar", label, part, sector, int(cells.count[inside].sum()), category))
    return [c for c in out if c]


#: DBSCAN of the suggestions: tighter than the defaults of geo.settings (100 m, 10 points) that the sector
#: page and the stored runs use, because a suggestion is one place to patrol and is sought over every
#: category at once. With the defaults a town centre's occurrences chain into one cluster: on the demo's
#: last 365 days, BEL-CENTRE gives one cluster of 2,646 occurrences over 2.8 km² (its three planted places
#: merged), where 60 m and 40 points give those three places, of 0.03 to 0.06 km² each.
SUGGESTION_DBSCAN_EPS_M = 60.0
SUGGESTION_DBSCAN_MIN_POINTS = 40


def _cluster_suggestions(engine: Engine | Connection, sector, period: Period) -> list[dict]:
    clusters = dbscan_clusters(engine, sector, period.first, period.last, eps=SUGGESTION_DBSCAN_EPS_M,
                               min_points=SUGGESTION_DBSCAN_MIN_POINTS)
    out = []
    for n, hull in sorted(zip(clusters.occurrences, clusters.geometry), key=lambda c: -c[0]):  # largest first
        label = f"Regroupement DBSCAN de {n} faits (rayon {SUGGESTION_DBSCAN_EPS_M:g} m)"
        out.append(_candidate("dbscan", label, hull.buffer(SUGGESTION_BUFFER), sector, int(n)))
    return [c for c in out if c]


__all__ = [
    "DAYS", "Actor", "HotCells", "Period", "ZoneError", "ZoneForbidden", "ZoneNotFound", "allowed_area",
    "check_fields", "check_geometry", "create_zone", "delete_zone", "format_time_slots", "get_zone", "list_zones",
    "parse_geometry", "parse_time_slot", "parse_time_slots", "sector_geometry", "sector_hot_cells",
    "sector_problems", "suggest_zones", "to_wgs84", "update_zone", "visible_sectors", "zone_contents", "zones_geojson",
]
