"""Référents and correspondants sûreté: ``psq load referents FILE`` and the coverage map's figures (who covers which
town: geo.referents.assignments)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from pyproj import CRS
from sqlalchemy.engine import Connection, Engine

from geo.db.unit_of_work import connection, transaction
from geo.ingest import row_checks
from geo.ingest.occurrences import BadRowsError, lock_for_import, territory_of
from geo.ingest.row_checks import Faults, Territory
from geo.ingest.tabular_file import RowTable, read_rows, resolve_columns

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    import geopandas as gpd

    from geo.accounts.users import UserScope


# -- loading: psq load referents FILE ----------------------------------------------------------------------
#: The kinds of record (the CHECK of migration 0013) and their French names.
KINDS = {"referent": "Référent sûreté", "correspondant": "Correspondant sûreté"}
# Field -> header names recognised (lower case).
FIELDS = {
    "name": ("name", "nom"),
    "kind": ("kind", "type"),
    "service": ("service",),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "longitude"),
    "communes": ("communes", "insee"),
    "email": ("email", "courriel", "mail"),
    "phone": ("phone", "telephone", "téléphone", "tel"),
}
REQUIRED = ("name", "kind", "service", "communes")
# INSEE codes in one cell: separated by spaces, commas or semicolons.
_CODE_SEPARATORS = re.compile(r"[\s,;]+")


class BadFileError(BadRowsError):
    """Rows of a file of référents, conventions or contracts that cannot be loaded: the headline, then one
    sentence per bad row (the whole file is refused, nothing is written)."""

    outcome = "nothing was written"


def split_codes(cell: str) -> list[str]:
    """The INSEE (or SIREN) codes of one cell, in order, each once.

    >>> split_codes(" 90010, 90033;90099  90010 ")
    ['90010', '90033', '90099']
    """
    return list(dict.fromkeys(c.upper() for c in _CODE_SEPARATORS.split(cell.strip()) if c))


def check_code_lists(lists: pd.Series, lines: pd.Series, known: set[str], faults: Faults, *,
                     exclusive: bool, where: str = "line") -> None:
    """Refuse the rows naming an unknown INSEE code and, if ``exclusive``, a commune another row claimed first."""
    unknown = lists.map(lambda codes: ", ".join(c for c in codes if c not in known))
    faults.add(unknown != "", "unknown INSEE code(s) {} (not among the communes loaded)", unknown)
    if not exclusive:
        return
    first: dict[str, int] = {}
    twice = []
    for codes, line in zip(lists, lines):
        clash = [f"{c} (already claimed on {where} {first[c]})" for c in codes if c in first]
        twice.append("; ".join(clash))
        for code in codes:
            first.setdefault(code, int(line))
    twice = pd.Series(twice, index=lists.index)
    faults.add(twice != "", "commune {} : one référent per commune", twice)


def known_communes(conn: Connection) -> set[str]:
    return set(conn.execute(sa.text("SELECT insee FROM commune")).scalars())


def field_getter(table: RowTable, columns: dict[str, str]):
    """``get(field)``: the stripped text of a field's column, '' for every row when the file has none."""
    rows = table.rows
    return lambda f: row_checks.text(rows[columns[f]]) if f in columns else pd.Series("", index=rows.index)


@dataclasses.dataclass
class ReferentLoadReport:
    file: str
    read: int
    added: int = 0
    updated: int = 0
    communes: int = 0
    moved: int = 0

    def lines(self) -> list[str]:
        moved = f", {self.moved} of them taken from another référent" if self.moved else ""
        return [f"{self.file}: {self.read} rows read, {self.added} référents added, {self.updated} updated; "
                f"{self.communes} communes assigned{moved}."]


def check_referents(table: RowTable, known: set[str], territory: Territory) -> tuple[pd.DataFrame, list]:
    """Check every row; return (good rows: name, kind, service, email, phone, x, y, communes; bad (where, reason))."""
    columns = resolve_columns(table, {}, FIELDS, REQUIRED)
    rows, get = table.rows, field_getter(table, columns)
    faults = Faults(len(rows))
    names, kinds = get("name"), get("kind").str.lower()
    faults.add(names == "", "missing name")
    duplicated = names.duplicated(keep="first") & (names != "")
    first_line = rows["line"].groupby(names).transform("first")
    faults.add(duplicated, "référent '{}' already given on line {}", names, first_line)
    faults.add(~kinds.isin(list(KINDS)), "kind '{}' is neither referent nor correspondant", kinds)
    faults.add(get("service") == "", "missing service")
    x, y = row_checks.check_coordinates(get("lat"), get("lon"), ("lat", "lon"), CRS.from_epsg(4326), territory,
                                        faults)
    codes = get("communes").map(split_codes)
    check_code_lists(codes, rows["line"], known, faults, exclusive=True)
    good = pd.DataFrame({"name": names, "kind": kinds, "service": get("service"), "email": get("email"),
                         "phone": get("phone"), "x": x, "y": y, "communes": codes})[~faults.bad()]
    reasons = faults.reasons()
    return good.reset_index(drop=True), [(f"line {rows['line'].iloc[p]}", r) for p, r in reasons.items()]


def load_referents(engine: Engine, path: str | Path, *, encoding: str | None = None) -> ReferentLoadReport:
    """Check and load a CSV of référents and correspondants sûreté in one transaction.

    Columns: ``name``, ``kind`` (``referent`` or ``correspondant``), ``service``, ``lat`` and ``lon``
    (his base, WGS84), ``communes`` (INSEE codes separated by spaces, commas or semicolons), optional
    ``email`` and ``phone``. A référent is updated by his name; the communes listed for him replace
    his previous ones (a commune another référent held moves to him). Raises :class:`BadFileError`
    (nothing written) when a row is bad: an empty name, an unknown kind or INSEE code, a base outside
    the territory, a commune claimed by two rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "referents.csv"
    >>> _ = p.write_text("name;kind;service;lat;lon;communes\\nCapitaine A;referent;DDSP 90;47.64;6.86;90010 90099\\n")
    >>> load_referents(engine, p).lines()
    ['referents.csv: 1 rows read, 1 référents added, 0 updated; 2 communes assigned.']
    """
    path = Path(path)
    table = read_rows(path, encoding=encoding)
    report = ReferentLoadReport(path.name, len(table.rows))
    with transaction(engine) as conn:
        good, bad = check_referents(table, known_communes(conn), territory_of(conn))
        if bad:
            raise BadFileError(path.name, len(table.rows), bad)
        lock_for_import(conn, "referent", "referent_commune")
        for row in good.itertuples():
            referent_id, added = conn.execute(sa.text(_UPSERT_REFERENT), {
                "name": row.name, "kind": row.kind, "service": row.service, "email": row.email or None,
                "phone": row.phone or None, "x": row.x, "y": row.y}).one()
            report.added += int(added)
            report.updated += int(not added)
            conn.execute(sa.text("DELETE FROM referent_commune WHERE referent_id = :r"), {"r": referent_id})
            if row.communes:
                moved = conn.execute(sa.text(_ASSIGN), {"r": referent_id, "codes": row.communes}).scalars().all()
                report.communes += len(moved)
                report.moved += sum(1 for m in moved if m)
    return report


_UPSERT_REFERENT = """
INSERT INTO referent AS r (name, kind, service, email, phone, base)
VALUES (:name, :kind, :service, :email, :phone, ST_SetSRID(ST_MakePoint(:x, :y), 2154))
ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, service = excluded.service, email = excluded.email,
    phone = excluded.phone, base = excluded.base
RETURNING r.id, (xmax = 0) AS added
"""
# A commune held by another référent moves to this one (one référent per commune); ``moved`` says so.
_ASSIGN = """
WITH before AS (SELECT commune_insee, referent_id FROM referent_commune WHERE commune_insee = ANY(:codes))
INSERT INTO referent_commune AS rc (commune_insee, referent_id)
SELECT code, :r FROM unnest(CAST(:codes AS text[])) AS code
ON CONFLICT (commune_insee) DO UPDATE SET referent_id = excluded.referent_id
RETURNING EXISTS (SELECT 1 FROM before b WHERE b.commune_insee = rc.commune_insee) AS moved
"""


# -- the coverage: who covers which town, how many inhabitants, how far --------------------------------------
@dataclasses.dataclass(frozen=True)
class CoveredCommune:
    """A commune of a référent: its inhabitants and the straight line from his base to its town hall."""

    insee: str
    name: str
    population: int | None
    distance_km: float | None  # None: the commune has no town hall loaded


@dataclasses.dataclass(frozen=True)
class ReferentLoad:
    """One référent's load: his communes, their inhabitants, his open audit requests, his distances."""

    id: int
    name: str
    kind: str
    service: str
    email: str | None
    phone: str | None
    lon: float
    lat: float
    communes: tuple[CoveredCommune, ...]
    #: Requests not done nor abandoned, assigned to him or waiting in his towns; None for a role that sees none.
    open_audits: int | None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def commune_count(self) -> int:
        return len(self.communes)

    @property
    def inhabitants(self) -> int:
        return sum(c.population or 0 for c in self.communes)

    @property
    def distances(self) -> list[float]:
        return [c.distance_km for c in self.communes if c.distance_km is not None]

    @property
    def max_km(self) -> float | None:
        return max(self.distances, default=None)

    @property
    def mean_km(self) -> float | None:
        distances = self.distances
        return sum(distances) / len(distances) if distances else None


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Every référent's load, and the communes of the territory nobody covers (by name)."""

    referents: tuple[ReferentLoad, ...]
    uncovered: tuple[CoveredCommune, ...]

    def of(self, referent_id: int | None) -> ReferentLoad | None:
        return next((r for r in self.referents if r.id == referent_id), None)


#: The roles that see audit requests (the rule of geo.referents.audits): the others get no count at all.
AUDIT_ROLES = ("admin", "referent", "maire")


def referent_coverage(bind: Engine | Connection, scope: UserScope) -> Coverage:
    """Every référent with his communes, inhabitants, open audit requests and distances; the uncovered communes.

    Distances are straight lines in Lambert-93 (metres, given in km) from the référent's base to each town
    hall. The open requests are those the scope may see (the rule of :mod:`geo.referents.audits`, the same
    as the row-level security): a role that sees no request (a chief) gets ``None``, not a misleading 0.

    Examples
    --------
    >>> from geo.accounts.users import UserScope
    >>> referent_coverage(engine, UserScope("admin"))
    Coverage(referents=(), uncovered=())
    """
    from geo.referents.audits import VISIBLE_REQUEST_SQL, scope_params

    counts_audits = scope.role in AUDIT_ROLES
    with connection(bind) as conn:
        rows = conn.execute(sa.text(_COVERAGE.format(visible=VISIBLE_REQUEST_SQL if counts_audits else "false")),
                            scope_params(scope)).mappings().all()
        uncovered = conn.execute(sa.text(_UNCOVERED)).all()
    referents = []
    for row in rows:
        communes = tuple(CoveredCommune(c["insee"], c["name"], c["population"], c["km"]) for c in row["communes"])
        referents.append(ReferentLoad(row["id"], row["name"], row["kind"], row["service"], row["email"], row["phone"],
                                      row["lon"], row["lat"], communes, row["open_audits"] if counts_audits else None))
    return Coverage(tuple(referents), tuple(CoveredCommune(*u, None) for u in uncovered))


_COVERAGE = """
SELECT r.id, r.name, r.kind, r.service, r.email, r.phone,
       ST_X(ST_Transform(r.base, 4326)) AS lon, ST_Y(ST_Transform(r.base, 4326)) AS lat,
       coalesce((SELECT json_agg(json_build_object(
                    'insee', c.insee, 'name', c.name, 'population', c.population,
                    'km', ST_Distance(r.base, c.town_hall) / 1000.0) ORDER BY c.name, c.insee)
                 FROM referent_commune rc JOIN commune c ON c.insee = rc.commune_insee
                 WHERE rc.referent_id = r.id), '[]') AS communes,
       (SELECT count(*) FROM audit_request a
        WHERE a.status NOT IN ('realisee', 'abandonnee') AND {visible}
          AND (a.referent_id = r.id OR (a.referent_id IS NULL AND a.commune_insee IN (
               SELECT rc.commune_insee FROM referent_commune rc WHERE rc.referent_id = r.id)))) AS open_audits
FROM referent r
ORDER BY r.name
"""
# The territory is every commune loaded (the départements of `psq load communes`).
_UNCOVERED = """
SELECT c.insee, c.name, c.population FROM commune c
WHERE NOT EXISTS (SELECT 1 FROM referent_commune rc WHERE rc.commune_insee = c.insee)
ORDER BY c.name, c.insee
"""


def coverage_shapes(bind: Engine | Connection) -> "gpd.GeoDataFrame":
    """Every commune loaded, in Lambert-93, with its référent (``referent_id``, ``referent``: None if nobody)
    and the distance from his base to its town hall (``distance_km``), for the coverage map."""
    import geopandas as gpd  # the maps only: the access policy imports this module for :func:`covers`

    with connection(bind) as conn:
        return gpd.read_postgis(sa.text("""
            SELECT c.insee, c.name, c.population, r.id AS referent_id, r.name AS referent,
                   ST_Distance(r.base, c.town_hall) / 1000.0 AS distance_km, c.geom
            FROM commune c LEFT JOIN referent_commune rc ON rc.commune_insee = c.insee
            LEFT JOIN referent r ON r.id = rc.referent_id
            ORDER BY c.insee"""), conn, geom_col="geom").rename_geometry("geometry")
