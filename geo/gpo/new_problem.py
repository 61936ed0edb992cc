"""A problem created by hand, located and categorised: from a hot spot cell, a recurring cell or a cluster's hull.

The sector chief clicks "create a problem here" in a popup of his sector's map
(layers/new_problem.py); the place is the cell's 200 m square or the hull. The problem
is attributed like an imported one (its sector version, CSP, commune and EPCI, through a
point on its surface), reported today with the status ``signale``, and its first status is
signed in its trail. Source ``carte``, a unique external id.
"""

from __future__ import annotations

import uuid

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.methods import cell_squares
from geo.analysis.scopes import Sector
from geo.db.unit_of_work import transaction
from geo.errors import PsqError
from geo.problems.categories import categories
from geo.settings import SRID, local_today

SOURCE = "carte"
MAX_TITLE = 200


class NewProblemError(PsqError, ValueError):
    """A problem refused (one French sentence naming the field)."""


def cell_place(i: int, j: int) -> shapely.Polygon:
    """The 200 m square of the cell ``(i, j)`` (EPSG:2154).

    >>> cell_place(4946, 33664).bounds
    (989200.0, 6732800.0, 989400.0, 6733000.0)
    """
    return cell_squares([i], [j])[0]


def create_problem(bind: Engine | Connection, sector: Sector, *, category: str, title: str, place,
                   author: str | None = None, description: str | None = None) -> int:
    """Create a problem of ``category`` at ``place`` (a shapely geometry in EPSG:2154) in ``sector``; its id.

    Raises NewProblemError: unknown category, empty or long title, a place outside the sector.
    """
    if category not in {c.code for c in categories()}:
        raise NewProblemError(f"Catégorie inconnue : « {category} ».")
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise NewProblemError(f"Le titre du problème doit compter de 1 à {MAX_TITLE} caractères.")
    if place is None or place.is_empty or not place.is_valid:
        raise NewProblemError("Le lieu du problème n'est pas une géométrie valide.")
    if not place.intersects(sector.geometry):
        raise NewProblemError(f"Le lieu du problème est hors du secteur {sector.code}.")
    with transaction(bind) as conn:
        problem_id = conn.execute(sa.text("""
            WITH place AS (SELECT ST_SetSRID(ST_GeomFromWKB(:wkb), :srid) AS geom)
            INSERT INTO problem (source, external_id, category_code, title, description, geom, sector_id,
                                 commune_insee, csp_id, epci_siren, status, reported_on)
            SELECT :source, :external_id, :category, :title, :description, place.geom, :sector_id,
                   com.insee, :csp_id, com.epci_siren, 'signale', :today
            FROM place LEFT JOIN LATERAL (
                SELECT c.insee, c.epci_siren FROM commune_part cp JOIN commune c ON c.insee = cp.insee
                WHERE ST_Intersects(cp.geom, ST_PointOnSurface(place.geom)) ORDER BY c.insee LIMIT 1) com ON true
            RETURNING id"""),
            {"wkb": shapely.to_wkb(place), "srid": SRID, "source": SOURCE, "external_id": f"carte-{uuid.uuid4().hex}",
             "category": category, "title": title, "description": (description or "").strip() or None,
             "sector_id": sector.id, "csp_id": sector.csp_id, "today": local_today()}).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO problem_status_change (problem_id, from_status, to_status, changed_at, note, author) "
            "VALUES (:id, NULL, 'signale', now(), :note, :author)"),
            {"id": problem_id, "note": "Créé depuis la carte du secteur", "author": author})
    return problem_id


__all__ = ["NewProblemError", "cell_place", "create_problem"]
