"""The camera study of an audit request, and its audit file ("dossier d'audit"), printed like the GPO meeting file.

:func:`camera_study` gathers what the audit page and the file show for a video-protection
request: the town's occurrences covered by its existing cameras (geo.referents.cameras.coverage),
its hot 200 m cells and those left uncovered, and, when asked, the ``p`` sites where new
cameras would cover the most (geo.referents.siting.propose_sites), each with what it adds.

:func:`audit_file` adds the request, its référent and a still map of the town (geo.gpo.map_image,
drawn on the server without tiles): the outline, the existing cameras' wedges, the hot cells left
uncovered and the proposed wedges numbered in their order. The web page, its PDF and the tests
render it (web/templates/audit_file.html). Figures in French (geo.formats).

The bind is the caller's: in the web app the user's scoped connection (row-level security).
Only the police side opens it (``study.run``: admin and référent): the figures count occurrences.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.commune_figures import commune_outline
from geo.db.audit import audit
from geo.db.unit_of_work import connection, transaction
from geo.errors import NotFound
from geo.formats import day as day_text
from geo.formats import number
from geo.referents.audits import AuditRequest, get_request
from geo.settings import SRID, local_today

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope
    from geo.referents.cameras import Coverage

#: The colours of the still map: existing wedges, hot cells left uncovered, the others, the proposed wedges.
#: (those of the web map, layers/camera_layers.py: copied, geo/ does not import layers/)
EXISTING_COLOUR, UNCOVERED_COLOUR, COVERED_COLOUR, PROPOSED_COLOUR = "#1d4ed8", "#b2182b", "#6b7280", "#ea580c"
#: The eight points of the compass, from north clockwise.
COMPASS = ("nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest")


def percent(share: float | None) -> str:
    """A share as the French write a percentage: ``27 %`` (no-break space); ``—`` for None.

    >>> percent(0.2697), percent(None)
    ('27\\xa0%', '—')
    """
    return "—" if share is None else f"{number(100 * share)}\u00a0%"


def facts(n: int) -> str:
    """``1 fait``, ``123 faits``: a count of occurrences in words.

    >>> facts(1), facts(1234)
    ('1 fait', '1\\u202f234 faits')
    """
    return f"{number(n)} fait{'s' if n > 1 else ''}"


def orientation(bearing: float | None, fov: float) -> str:
    """Where a camera looks, in French: ``tous azimuts`` for a dome, else its bearing and compass point.

    >>> orientation(0, 360), orientation(92, 90), orientation(350, 60)
    ('tous azimuts', '92° (est), champ 90°', '350° (nord), champ 60°')
    """
    if fov >= 360 or bearing is None:
        return "tous azimuts"
    return f"{number(bearing)}° ({COMPASS[round((bearing % 360) / 45) % 8]}), champ {number(fov)}°"


@dataclasses.dataclass(frozen=True)
class SiteLine:
    """A proposed site in the order it was chosen: its place, where it looks, what it adds and the total after it."""

    rank: int
    x: float
    y: float
    lat: float
    lon: float
    bearing: float | None
    fov: float
    range_m: float
    gain: int
    covered: int
    share: float | None

    @property
    def position(self) -> str:
        return f"{number(self.lat, 5)}, {number(self.lon, 5)}"

    @property
    def orientation(self) -> str:
        return orientation(self.bearing, self.fov)

    @property
    def gain_text(self) -> str:
        return f"+{facts(self.gain)}"

    def wedge(self) -> shapely.Polygon:
        from geo.referents.cameras import wedge

        return wedge(self.x, self.y, self.bearing or 0.0, self.fov, self.range_m)


@dataclasses.dataclass(frozen=True)
class CameraStudy:
    """The coverage of a town by its cameras and, if asked (``params``), the proposed sites."""

    commune_insee: str
    commune_name: str
    outline: Any  # shapely geometry, EPSG:2154 (None: the town's outline is not loaded)
    coverage: Coverage
    params: dict | None
    proposal: Any = None  # geo.referents.siting.Proposal
    sites: tuple[SiteLine, ...] = ()

    @property
    def figures(self) -> str:
        """"Les caméras existantes couvrent 123 des 456 faits (27 %)"."""
        c = self.coverage
        if not c.occurrences:
            return (f"Aucun fait enregistré du {day_text(c.first)} au {day_text(c.last)} : rien à couvrir "
                    "sur cette période.")
        cameras = len(c.cameras)
        if not cameras:
            return f"Aucune caméra existante : aucun des {facts(c.occurrences)} n'est couvert."
        return (f"Les {number(cameras)} caméras existantes couvrent {number(c.covered)} des {facts(c.occurrences)} "
                f"({percent(c.share)})." if cameras > 1 else
                f"La caméra existante couvre {number(c.covered)} des {facts(c.occurrences)} ({percent(c.share)}).")

    @property
    def hot_figures(self) -> str:
        """How many hot cells, and how many left uncovered."""
        c = self.coverage
        if not c.hot_cells:
            return c.note_fr or "Aucun carreau chaud sur la période."
        left = len(c.uncovered_hot_cells)
        return (f"{number(len(c.hot_cells))} carreau{'x' if len(c.hot_cells) > 1 else ''} chaud"
                f"{'s' if len(c.hot_cells) > 1 else ''} de 200 m, dont {number(left)} "
                f"peu couvert{'s' if left > 1 else ''} (moins de la moitié de leurs faits dans le champ d'une caméra).")

    @property
    def proposal_figures(self) -> str | None:
        """What the proposed sites bring: "Avec 3 caméras de plus : 200 des 456 faits (44 %), soit +77 faits"."""
        if self.proposal is None:
            return None
        if not self.sites:
            return "Aucun site ne couvrirait de fait de plus."
        total = self.coverage.occurrences
        gained = sum(s.gain for s in self.sites)
        last = self.sites[-1]
        return (f"Avec {number(len(self.sites))} caméra{'s' if len(self.sites) > 1 else ''} de plus : "
                f"{number(last.covered)} des {facts(total)} couverts ({percent(last.share)}), soit +{facts(gained)}.")

    @property
    def optimality(self) -> str | None:
        """Whether the choice is proved the best over every candidate site, in French (None: no proposal)."""
        if self.proposal is None or not self.sites:
            return None
        if self.proposal.exact:
            return "Ce choix est le meilleur possible parmi tous les sites candidats (optimum prouvé)."
        return (f"Ce choix est le meilleur parmi les {number(self.proposal.pool)} sites candidats qui couvrent seuls le "
                f"plus de faits, sur {number(self.proposal.candidates)} ; qu'il le soit parmi tous n'est pas prouvé.")

    @property
    def period(self) -> str:
        return f"du {day_text(self.coverage.first)} au {day_text(self.coverage.last)}"


def camera_study(bind: Engine | Connection, scope: UserScope, commune: str, params: dict | None) -> CameraStudy:
    """The coverage of ``commune`` by its existing cameras and, with ``params`` (``p``, ``range_m``, ``fov``,
    ``category``, ``first``, ``last``: web.pages.audits.proposal_params), the ``p`` proposed sites."""
    from geo.referents.cameras import coverage

    params = params or None
    period = {"first": params.get("first"), "last": params.get("last")} if params else {}
    chosen = [params["category"]] if params and params.get("category") else None
    with connection(bind) as conn:
        outline = commune_outline(conn, commune)
        if not len(outline):
            raise NotFound(f"Aucune commune de code INSEE {commune} n'est chargée.")
        name = str(outline["name"].iloc[0])
        found = coverage(conn, scope, commune, categories=chosen, **period)
        proposal, sites = None, ()
        if params:
            from geo.referents.siting import propose_sites

            proposal = propose_sites(conn, scope, commune, params["p"], range_m=params["range_m"], fov=params["fov"],
                                     categories=chosen, first=found.first, last=found.last,
                                     grid_step=params.get("grid_step", 50))
            sites = _site_lines(proposal, found, params)
    return CameraStudy(commune, name, outline.geometry.iloc[0], found, params, proposal, sites)


def _site_lines(proposal, found: Coverage, params: dict) -> tuple[SiteLine, ...]:
    """Each proposed site with its gain and the coverage once it is added (the existing cameras' first)."""
    total = getattr(proposal, "occurrences", found.occurrences) or 0
    covered = int(getattr(proposal, "already_covered", found.covered))
    lines = []
    for rank, (site, gain) in enumerate(zip(proposal.sites, proposal.gains), start=1):
        covered += int(gain)
        lines.append(SiteLine(rank, float(_get(site, "x")), float(_get(site, "y")), float(_get(site, "lat")),
                              float(_get(site, "lon")), _bearing(site),
                              float(_get(site, "fov", params["fov"])), float(_get(site, "range_m", params["range_m"])),
                              int(gain), covered, covered / total if total else None))
    return tuple(lines)


def _get(site, name: str, default=None):
    if isinstance(site, dict):
        return site.get(name, default)
    return getattr(site, name, default)


def _bearing(site) -> float | None:
    value = _get(site, "bearing")
    return None if value is None else float(value)


# -- the file ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class AuditFile:
    """What the audit file shows: the request, its référent, its camera study (video-protection only) and map."""

    request: AuditRequest
    referent: dict | None
    study: CameraStudy | None
    map_png: bytes | None
    made_on: dt.date

    @property
    def map_data_uri(self) -> str | None:
        """The map as a ``data:`` URI, for an ``<img>`` that needs no second request."""
        if self.map_png is None:
            return None
        return "data:image/png;base64," + base64.b64encode(self.map_png).decode("ascii")

    @property
    def filename(self) -> str:
        """The PDF's file name: ``audit-12-90010-2026-12-15.pdf``."""
        return f"audit-{self.request.id}-{self.request.commune_insee}-{self.made_on.isoformat()}.pdf"


def audit_file(bind: Engine | Connection, scope: UserScope, request_id: int, params: dict | None = None, *,
               width_px: int = 1400) -> AuditFile:
    """The audit file of request ``request_id``; NotFound (404) for a request the user does not see."""
    with connection(bind) as conn:
        found = get_request(conn, scope, request_id)
        if found is None:
            raise NotFound(f"Aucune demande d'audit n° {request_id} dans votre périmètre.")
        referent = None
        if found.referent_id is not None:
            row = conn.execute(sa.text("SELECT name, kind, service, email, phone FROM referent WHERE id = :r"),
                               {"r": found.referent_id}).mappings().first()
            referent = dict(row) if row else None
        study = png = None
        if found.is_videoprotection:
            study = camera_study(conn, scope, found.commune_insee, params)
            png = study_map_png(study, width_px=width_px, title=f"{study.commune_name} — demande n° {found.id}")
        return AuditFile(found, referent, study, png, local_today())


def study_map_png(study: CameraStudy, *, width_px: int = 1400, title: str | None = None) -> bytes:
    """The still map of the study: the town's outline, the hot cells (uncovered ones in red), the existing
    cameras' wedges (blue) and the proposed ones (green, numbered in their order)."""
    from geo.gpo.map_image import Overlay, area_map_png

    c = study.coverage
    overlays = []
    if c.hot_cells:
        covered = tuple(h for h in c.hot_cells if not h.uncovered)
        if c.uncovered_hot_cells:
            overlays.append(Overlay(_frame([h.square() for h in c.uncovered_hot_cells]), "Carreau chaud peu couvert",
                                    {"facecolor": UNCOVERED_COLOUR, "edgecolor": UNCOVERED_COLOUR, "alpha": 0.55,
                                     "linewidth": 0.5}))
        if covered:
            overlays.append(Overlay(_frame([h.square() for h in covered]), "Carreau chaud couvert",
                                    {"facecolor": "none", "edgecolor": COVERED_COLOUR, "linewidth": 1.5}))
    if c.wedges:
        overlays.append(Overlay(_frame(c.wedges), "Champ des caméras existantes",
                                {"facecolor": EXISTING_COLOUR, "edgecolor": EXISTING_COLOUR, "alpha": 0.35}))
    if study.sites:
        overlays.append(Overlay(_frame([s.wedge() for s in study.sites]), "Caméra proposée (n° dans l'ordre du choix)",
                                {"facecolor": PROPOSED_COLOUR, "edgecolor": PROPOSED_COLOUR, "alpha": 0.35,
                                 "linewidth": 1.5}))
        marks = _frame([shapely.Point(s.x, s.y).buffer(1) for s in study.sites])
        marks["rank"] = [s.rank for s in study.sites]
        overlays.append(Overlay(marks, "Emplacement proposé", {"facecolor": "white", "edgecolor": PROPOSED_COLOUR},
                                labels="rank"))
    shapes = [h.square() for h in c.hot_cells] + list(c.wedges) + [s.wedge() for s in study.sites]
    view = shapely.box(*gpd.GeoSeries(shapes, crs=SRID).total_bounds).buffer(150) if shapes else None
    return area_map_png(study.outline, width_px=width_px, title=title, area_label="Limites de la commune",
                        overlays=overlays, view=view)


def _frame(shapes) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(shapes), crs=SRID)


def audit_export(bind: Engine | Connection, file: AuditFile, *, user_id: int | None = None,
                 ip: str | None = None) -> None:
    """Write the export of an audit file as PDF (police figures leaving the app) to the audit log."""
    with transaction(bind) as conn:
        audit(conn, "export.audit_file", user_id=user_id, target=f"audit_request:{file.request.id}",
              details={"commune": file.request.commune_insee, "format": "pdf",
                       "proposal": None if file.study is None or file.study.params is None else
                       {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in file.study.params.items()}},
              ip=ip)


__all__ = ["AuditFile", "CameraStudy", "SiteLine", "audit_export", "audit_file", "camera_study", "facts",
           "orientation", "percent", "study_map_png"]
