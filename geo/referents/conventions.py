"""Conventions de participation citoyenne and contrats de sécurité intégrée (CSI): their dates, loaders, lists.

A convention de participation citoyenne is signed for three years, "renouvelable par tacite
reconduction" (communes-continuum-securite.md): signed on D, it renews itself on D + 3 years, D + 6
years... until it is ended (``ended_on``). A CSI is signed for the municipal mandates still to run,
five years (circulaire n° 6258/SG of 16 April 2021, II): it ends on its signature day plus its duration,
with no tacit renewal (the circulaire provides none), so its end is what stands out as it nears.

Every listing is clipped to the user's scope in SQL (admin and référent: everything; a mayor: his town;
a chief: the towns his sectors cover), as the row-level security of migration 0013 clips the web app's
own connection.

Examples
--------
>>> renewal_dates(dt.date(2020, 3, 15), today=dt.date(2026, 12, 3))
Renewal(next_on=datetime.date(2029, 3, 15), due_soon=False, ended=False)
>>> contract_term(dt.date(2021, 9, 1), 5, today=dt.date(2026, 3, 1))
ContractTerm(ends_on=datetime.date(2026, 9, 1), near_end=False, ended=False)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.db.queries import named_query
from geo.db.unit_of_work import connection, transaction
from geo.ingest.occurrences import lock_for_import
from geo.ingest.row_checks import Faults
from geo.ingest.tabular_file import read_rows, resolve_columns
from geo.referents.referents import BadFileError, check_code_lists, field_getter, known_communes, split_codes
from geo.settings import local_today

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope

#: A convention's term and the days before a renewal when it is "à reconduire".
CONVENTION_YEARS = 3
RENEWAL_NOTICE_DAYS = 90
#: A CSI's usual term (the municipal mandates still to run) and the days before its end when it stands out.
CONTRACT_YEARS = 5
CONTRACT_NOTICE_DAYS = 180
#: A chief sees a commune's conventions when one of his sectors covers more than this share of it: the rule of
#: geo.accounts.users.COMMUNE_SHARE (not imported: geo.accounts' policy imports this package; a test holds
#: the two equal).
CHIEF_COMMUNE_SHARE = 0.01
#: The French names of a convention's states (``ConventionRow.state``).
STATES = {"en_vigueur": "En vigueur", "a_reconduire": "À reconduire", "terminee": "Terminée"}


# -- dates ---------------------------------------------------------------------------------------------------
def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` ``years`` later; a 29 February falls back to the 28th in a common year.

    >>> add_years(dt.date(2024, 2, 29), 3), add_years(dt.date(2024, 2, 29), 4)
    (datetime.date(2027, 2, 28), datetime.date(2028, 2, 29))
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February of a common year
        return day.replace(year=day.year + years, day=28)


@dataclasses.dataclass(frozen=True)
class Renewal:
    """When a convention renews itself next (None once ended), and whether that is within the notice."""

    next_on: dt.date | None
    due_soon: bool
    ended: bool

    @property
    def state(self) -> str:
        return "terminee" if self.ended else "a_reconduire" if self.due_soon else "en_vigueur"


def renewal_dates(signed_on: dt.date, duration_years: int = CONVENTION_YEARS, today: dt.date | None = None,
                  ended_on: dt.date | None = None) -> Renewal:
    """The next tacit renewal of a convention signed on ``signed_on``: the first ``signed_on + k × duration``
    (k ≥ 1) on or after ``today``, each counted from the signature (a 29 February renews on the 28th in a
    common year, and on the 29th again in a leap year). ``due_soon`` within :data:`RENEWAL_NOTICE_DAYS`.
    An ended convention (``ended_on``) renews no more.

    >>> renewal_dates(dt.date(2023, 12, 20), today=dt.date(2026, 12, 3))
    Renewal(next_on=datetime.date(2026, 12, 20), due_soon=True, ended=False)
    >>> renewal_dates(dt.date(2023, 12, 20), today=dt.date(2026, 12, 3), ended_on=dt.date(2025, 1, 1))
    Renewal(next_on=None, due_soon=False, ended=True)
    """
    if duration_years <= 0:
        raise ValueError(f"A convention's duration is a positive number of years, not {duration_years}.")
    today = today or local_today()
    if ended_on is not None:
        return Renewal(None, False, True)
    k = 1
    while add_years(signed_on, k * duration_years) < today:  # each term from the signature: a 29 February stays
        k += 1
    next_on = add_years(signed_on, k * duration_years)
    return Renewal(next_on, (next_on - today).days <= RENEWAL_NOTICE_DAYS, False)


@dataclasses.dataclass(frozen=True)
class ContractTerm:
    """When a CSI ends (no tacit renewal), whether that is within :data:`CONTRACT_NOTICE_DAYS`, whether past."""

    ends_on: dt.date
    near_end: bool
    ended: bool


def contract_term(signed_on: dt.date, duration_years: int = CONTRACT_YEARS,
                  today: dt.date | None = None) -> ContractTerm:
    """The end of a CSI signed on ``signed_on`` for ``duration_years``.

    >>> contract_term(dt.date(2021, 9, 1), 5, today=dt.date(2026, 6, 1))
    ContractTerm(ends_on=datetime.date(2026, 9, 1), near_end=True, ended=False)
    >>> contract_term(dt.date(2021, 9, 1), 5, today=dt.date(2026, 9, 1)).ended
    True
    """
    today = today or local_today()
    ends_on = add_years(signed_on, duration_years)
    ended = ends_on <= today
    return ContractTerm(ends_on, not ended and (ends_on - today).days <= CONTRACT_NOTICE_DAYS, ended)


# -- checks shared by both loaders ---------------------------------------------------------------------------
def _dates(values: pd.Series, faults: Faults, label: str, required: bool = True) -> list[dt.date | None]:
    """Days written YYYY-MM-DD (None where empty or refused)."""
    def parse(text: str):
        try:
            return dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None

    days = [parse(v) for v in values]
    if required:
        faults.add(values == "", f"missing {label}")
    faults.add((values != "").to_numpy() & [d is None for d in days], label + " '{}' is not a day written YYYY-MM-DD",
               values)
    return days


def _counts(values: pd.Series, faults: Faults, label: str, default: int | None,
            positive: bool = False) -> list[int | None]:
    """Whole numbers (``default`` where empty), refused when not a number, negative, or 0 if ``positive``."""
    numbers = pd.to_numeric(values.where(values != ""), errors="coerce")
    faults.add((values != "") & (numbers.isna() | (numbers % 1 != 0)), label + " '{}' is not a whole number", values)
    low = numbers <= 0 if positive else numbers < 0
    faults.add(low, label + " {} must be " + ("at least 1" if positive else "0 or more"), values)
    return [default if n != n else int(n) for n in numbers]  # Python ints (None stays None, not NaN)


# -- psq load conventions FILE -------------------------------------------------------------------------------
CONVENTION_FIELDS = {
    "commune": ("commune", "insee", "commune_insee", "code_insee"),
    "signed_on": ("signed_on", "signee_le", "signée_le", "date_signature"),
    "duration_years": ("duration_years", "duree", "durée"),
    "volunteers": ("volunteers", "volontaires", "referents_volontaires"),
    "ended_on": ("ended_on", "fin", "terminee_le"),
}


@dataclasses.dataclass
class FileLoadReport:
    file: str
    read: int
    what: str
    added: int = 0
    updated: int = 0

    def lines(self) -> list[str]:
        return [f"{self.file}: {self.read} rows read, {self.added} {self.what} added, {self.updated} updated."]


def load_conventions(engine: Engine, path: str | Path, *, encoding: str | None = None) -> FileLoadReport:
    """Check and load a CSV of conventions de participation citoyenne in one transaction.

    Columns: ``commune`` (INSEE code), ``signed_on`` (YYYY-MM-DD), ``duration_years`` (default 3),
    ``volunteers`` (default 0), optional ``ended_on``. A convention is one commune's signature of one day:
    loaded again, it is updated. Raises :class:`~geo.referents.referents.BadFileError` (nothing written)
    for a bad date, an unknown commune, a negative number, a convention given twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "conventions.csv"
    >>> _ = p.write_text("commune,signed_on,volunteers\\n90010,2023-12-20,14\\n")
    >>> load_conventions(engine, p).lines()
    ['conventions.csv: 1 rows read, 1 conventions added, 0 updated.']
    """
    path = Path(path)
    table = read_rows(path, encoding=encoding)
    columns = resolve_columns(table, {}, CONVENTION_FIELDS, ("commune", "signed_on"), point_or=("commune",))
    rows, get = table.rows, field_getter(table, columns)
    faults = Faults(len(rows))
    communes = get("commune").str.upper()
    faults.add(communes == "", "missing commune")
    signed = _dates(get("signed_on"), faults, "signed_on")
    ended = _dates(get("ended_on"), faults, "ended_on", required=False)
    faults.add([bool(e and s and e < s) for e, s in zip(ended, signed)],
               "ended_on {} comes before signed_on {}", get("ended_on"), get("signed_on"))
    years = _counts(get("duration_years"), faults, "duration_years", CONVENTION_YEARS, positive=True)
    volunteers = _counts(get("volunteers"), faults, "volunteers", 0)
    key = communes + " " + get("signed_on")
    twice = key.duplicated(keep="first") & (communes != "")
    faults.add(twice, "the convention of {} signed on {} is already on line {}", communes, get("signed_on"),
               rows["line"].groupby(key).transform("first"))
    report = FileLoadReport(path.name, len(rows), "conventions")
    with transaction(engine) as conn:
        check_code_lists(communes.map(lambda c: [c] if c else []), rows["line"], known_communes(conn), faults,
                         exclusive=False)
        _refuse(path.name, rows, faults)
        lock_for_import(conn, "convention")
        for i in range(len(rows)):
            added = conn.execute(sa.text(_UPSERT_CONVENTION), {
                "insee": communes.iloc[i], "signed": signed[i], "years": years[i],
                "volunteers": volunteers[i], "ended": ended[i]}).scalar_one()
            report.added += int(added)
            report.updated += int(not added)
    return report


def _refuse(name: str, rows: pd.DataFrame, faults: Faults) -> None:
    reasons = faults.reasons()
    if reasons:
        raise BadFileError(name, len(rows), [(f"line {rows['line'].iloc[p]}", r) for p, r in reasons.items()])


_UPSERT_CONVENTION = """
INSERT INTO convention AS c (commune_insee, signed_on, duration_years, volunteers, ended_on)
VALUES (:insee, :signed, :years, :volunteers, :ended)
ON CONFLICT (commune_insee, signed_on) DO UPDATE SET duration_years = excluded.duration_years,
    volunteers = excluded.volunteers, ended_on = excluded.ended_on
RETURNING (xmax = 0) AS added
"""


# -- psq load contracts FILE ---------------------------------------------------------------------------------
CONTRACT_FIELDS = {
    "name": ("name", "nom"),
    "communes": ("communes", "insee"),
    "epci": ("epci", "epci_siren", "siren"),
    "signed_on": ("signed_on", "signe_le", "signé_le", "date_signature"),
    "duration_years": ("duration_years", "duree", "durée"),
    "municipal_police": ("municipal_police", "policiers_municipaux", "police_municipale"),
    "cameras": ("cameras", "caméras"),
    "supervision_centre": ("supervision_centre", "csu"),
    "engagements": ("engagements",),
}
_YES, _NO = ("oui", "true", "vrai", "1", "yes", "o"), ("non", "false", "faux", "0", "no", "n", "")


def load_contracts(engine: Engine, path: str | Path, *, encoding: str | None = None) -> FileLoadReport:
    """Check and load a CSV of contrats de sécurité intégrée in one transaction.

    Columns: ``name``, ``communes`` (INSEE codes separated by spaces, commas or semicolons) and/or ``epci``
    (the SIREN of an intercommunality: its communes), ``signed_on`` (YYYY-MM-DD), ``duration_years``
    (default 5), ``municipal_police`` and ``cameras`` (counts the communes commit to), ``supervision_centre``
    (oui/non, true/false: a CSU), ``engagements`` (text). A contract is updated by its name, its communes
    replaced. Raises :class:`~geo.referents.referents.BadFileError` (nothing written) for a bad date, an
    unknown commune or EPCI, a negative number, a contract without commune, a name given twice.
    """
    path = Path(path)
    table = read_rows(path, encoding=encoding)
    columns = resolve_columns(table, {}, CONTRACT_FIELDS, ("name", "signed_on"), point_or=("name",))
    rows, get = table.rows, field_getter(table, columns)
    faults = Faults(len(rows))
    names = get("name")
    faults.add(names == "", "missing name")
    faults.add(names.duplicated(keep="first") & (names != ""), "contract '{}' already given on line {}", names,
               rows["line"].groupby(names).transform("first"))
    signed = _dates(get("signed_on"), faults, "signed_on")
    years = _counts(get("duration_years"), faults, "duration_years", CONTRACT_YEARS, positive=True)
    police = _counts(get("municipal_police"), faults, "municipal_police", None)
    cameras = _counts(get("cameras"), faults, "cameras", None)
    centre = get("supervision_centre").str.lower()
    faults.add(~centre.isin(_YES + _NO), "supervision_centre '{}' is neither oui nor non", get("supervision_centre"))
    listed, epcis = get("communes").map(split_codes), get("epci")
    report = FileLoadReport(path.name, len(rows), "contracts")
    with transaction(engine) as conn:
        check_code_lists(listed, rows["line"], known_communes(conn), faults, exclusive=False)
        members = _epci_communes(conn)
        faults.add((epcis != "") & ~epcis.isin(list(members)), "unknown EPCI '{}' (no commune loaded has this SIREN)",
                   epcis)
        communes = [list(dict.fromkeys(c + members.get(e, []))) for c, e in zip(listed, epcis)]
        faults.add([not c and not e for c, e in zip(communes, epcis)],
                   "no commune: give communes (INSEE codes) or an epci (SIREN)")
        _refuse(path.name, rows, faults)
        lock_for_import(conn, "csi_contract", "csi_commune")
        for i in range(len(rows)):
            contract_id, added = conn.execute(sa.text(_UPSERT_CONTRACT), {
                "name": names.iloc[i], "epci": epcis.iloc[i] or None, "signed": signed[i],
                "years": years[i], "police": police[i], "cameras": cameras[i],
                "centre": centre.iloc[i] in _YES, "engagements": get("engagements").iloc[i] or None}).one()
            conn.execute(sa.text("DELETE FROM csi_commune WHERE contract_id = :c"), {"c": contract_id})
            conn.execute(sa.text("INSERT INTO csi_commune (contract_id, commune_insee) "
                                 "SELECT :c, unnest(CAST(:codes AS text[]))"), {"c": contract_id, "codes": communes[i]})
            report.added += int(added)
            report.updated += int(not added)
    return report


def _epci_communes(conn: Connection) -> dict[str, list[str]]:
    return {siren: list(codes) for siren, codes in conn.execute(sa.text(
        "SELECT epci_siren, array_agg(insee ORDER BY insee) FROM commune WHERE epci_siren IS NOT NULL "
        "GROUP BY epci_siren"))}


_UPSERT_CONTRACT = """
INSERT INTO csi_contract AS k (name, epci_siren, signed_on, duration_years, municipal_police, cameras,
                               supervision_centre, engagements)
VALUES (:name, :epci, :signed, :years, :police, :cameras, :centre, :engagements)
ON CONFLICT (name) DO UPDATE SET epci_siren = excluded.epci_siren, signed_on = excluded.signed_on,
    duration_years = excluded.duration_years, municipal_police = excluded.municipal_police,
    cameras = excluded.cameras, supervision_centre = excluded.supervision_centre, engagements = excluded.engagements
RETURNING k.id, (xmax = 0) AS added
"""


# -- the lists, clipped to the scope -------------------------------------------------------------------------
def scope_communes(bind: Engine | Connection, scope: UserScope) -> list[str] | None:
    """The INSEE codes whose conventions and contracts the scope sees; None for all (admin, référent)."""
    if scope.role in ("admin", "referent"):
        return None
    if scope.role == "maire":
        return [scope.commune_insee] if scope.commune_insee else []
    if scope.role == "chef_secteur":  # the query of geo.accounts.users.visible_communes, with its parameters
        if not scope.sectors:
            return []
        params = {"only": None, "all": False, "mayor": None, "csp_ids": [s.csp_id for s in scope.sectors],
                  "codes": [s.code for s in scope.sectors], "share": CHIEF_COMMUNE_SHARE, "today": local_today()}
        with connection(bind) as conn:
            return [insee for insee, _ in conn.execute(named_query("visible_communes"), params)]
    return []


@dataclasses.dataclass(frozen=True)
class ConventionRow:
    id: int
    commune_insee: str
    commune: str
    signed_on: dt.date
    duration_years: int
    volunteers: int
    ended_on: dt.date | None
    renewal: Renewal

    @property
    def state(self) -> str:
        return self.renewal.state

    @property
    def state_label(self) -> str:
        return STATES[self.state]


@dataclasses.dataclass(frozen=True)
class ContractRow:
    id: int
    name: str
    epci_siren: str | None
    epci: str | None
    signed_on: dt.date
    duration_years: int
    municipal_police: int | None
    cameras: int | None
    supervision_centre: bool
    engagements: str | None
    communes: tuple[tuple[str, str], ...]  # (INSEE code, name)
    term: ContractTerm


def list_conventions(bind: Engine | Connection, scope: UserScope, today: dt.date | None = None) -> list[ConventionRow]:
    """The conventions the scope sees, by commune name then signature, each with its next renewal."""
    today = today or local_today()
    codes = scope_communes(bind, scope)
    with connection(bind) as conn:
        rows = conn.execute(sa.text("""
            SELECT v.id, v.commune_insee, c.name, v.signed_on, v.duration_years, v.volunteers, v.ended_on
            FROM convention v JOIN commune c ON c.insee = v.commune_insee
            WHERE CAST(:all AS boolean) OR v.commune_insee = ANY(CAST(:codes AS text[]))
            ORDER BY c.name, v.signed_on DESC"""), {"all": codes is None, "codes": codes or []}).all()
    return [ConventionRow(*r, renewal=renewal_dates(r.signed_on, r.duration_years, today, r.ended_on)) for r in rows]


def list_contracts(bind: Engine | Connection, scope: UserScope, today: dt.date | None = None) -> list[ContractRow]:
    """The CSI of which the scope sees a commune (with all their communes), by name, each with its end."""
    today = today or local_today()
    codes = scope_communes(bind, scope)
    with connection(bind) as conn:
        rows = conn.execute(sa.text("""
            SELECT k.id, k.name, k.epci_siren, e.name AS epci, k.signed_on, k.duration_years, k.municipal_police,
                   k.cameras, k.supervision_centre, k.engagements,
                   (SELECT coalesce(json_agg(json_build_array(c.insee, c.name) ORDER BY c.name), '[]')
                    FROM csi_commune m JOIN commune c ON c.insee = m.commune_insee WHERE m.contract_id = k.id)
            FROM csi_contract k LEFT JOIN epci e ON e.siren = k.epci_siren
            WHERE CAST(:all AS boolean) OR EXISTS (SELECT 1 FROM csi_commune m WHERE m.contract_id = k.id
                                                   AND m.commune_insee = ANY(CAST(:codes AS text[])))
            ORDER BY k.name"""), {"all": codes is None, "codes": codes or []}).all()
    return [ContractRow(*r[:10], communes=tuple(tuple(c) for c in r[10]),
                        term=contract_term(r.signed_on, r.duration_years, today)) for r in rows]


def commune_shapes(bind: Engine | Connection, codes: list[str]) -> "gpd.GeoDataFrame":
    """The communes of ``codes`` (insee, name, population, town hall's lon/lat), Lambert-93, for the maps."""
    import geopandas as gpd  # the maps only

    with connection(bind) as conn:
        return gpd.read_postgis(sa.text(
            "SELECT insee, name, population, ST_X(ST_Transform(town_hall, 4326)) AS lon, "
            "ST_Y(ST_Transform(town_hall, 4326)) AS lat, geom FROM commune "
            "WHERE insee = ANY(CAST(:codes AS text[])) ORDER BY insee"), conn, geom_col="geom",
            params={"codes": list(codes)}).rename_geometry("geometry")


if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["CHIEF_COMMUNE_SHARE", "CONTRACT_NOTICE_DAYS", "CONTRACT_YEARS", "CONVENTION_YEARS", "RENEWAL_NOTICE_DAYS", "STATES",
           "ContractRow", "ContractTerm", "ConventionRow", "FileLoadReport", "Renewal", "add_years",
           "commune_shapes", "contract_term", "list_contracts", "list_conventions", "load_contracts",
           "load_conventions", "renewal_dates", "scope_communes"]
