"""``psq export referents|cameras|conventions``: the prevention records as GeoJSON, GeoPackage or CSV.

- ``referents``: one point per référent (his base): name, kind, service, contact, his communes (INSEE
  codes separated by spaces), their number and inhabitants;
- ``cameras``: one point per camera: bearing, field of view, range, status, owner, commune;
- ``conventions``: one feature per convention de participation citoyenne (``type``
  ``participation_citoyenne``: its commune's outline, signature, next tacit renewal, volunteers, state)
  and per contrat de sécurité intégrée (``type`` ``csi``: the union of its communes, signature, end,
  engagements), in one layer so that one file holds the whole picture of a territory.

GeoJSON and CSV in lon/lat (the geometry as WKT in CSV), GeoPackage in Lambert-93 as stored
(geo.export.vector). Each export is an act of the command line's owner: it is written to the audit log
(``export.referents``, ``export.cameras``, ``export.conventions``), as ``psq export sectors`` is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.db.audit import audit
from geo.db.unit_of_work import connection, transaction
from geo.export.vector import FORMATS, write_vector
from geo.referents.conventions import contract_term, renewal_dates
from geo.settings import local_today

#: What can be exported, and the layer name of each in a GeoPackage.
WHAT = {"referents": "referent", "cameras": "camera", "conventions": "convention"}

_REFERENTS = """
SELECT r.name, r.kind, r.service, r.email, r.phone,
       coalesce(string_agg(rc.commune_insee, ' ' ORDER BY rc.commune_insee), '') AS communes,
       count(rc.commune_insee) AS commune_count, coalesce(sum(c.population), 0) AS inhabitants, r.base AS geom
FROM referent r LEFT JOIN referent_commune rc ON rc.referent_id = r.id LEFT JOIN commune c ON c.insee = rc.commune_insee
GROUP BY r.id ORDER BY r.name
"""
_CAMERAS = """
SELECT k.source, k.external_id, k.bearing, k.fov, k.range_m, k.status, k.owner, k.commune_insee,
       c.name AS commune, k.geom
FROM camera k LEFT JOIN commune c ON c.insee = k.commune_insee ORDER BY k.source, k.external_id
"""
_CONVENTIONS = """
SELECT 'participation_citoyenne' AS type, c.name AS name, v.commune_insee AS communes, v.signed_on,
       v.duration_years, v.volunteers, v.ended_on, NULL::integer AS municipal_police, NULL::integer AS cameras,
       NULL::boolean AS supervision_centre, NULL::text AS engagements, c.geom
FROM convention v JOIN commune c ON c.insee = v.commune_insee
UNION ALL
SELECT 'csi', k.name, string_agg(m.commune_insee, ' ' ORDER BY m.commune_insee), k.signed_on, k.duration_years,
       NULL, NULL, k.municipal_police, k.cameras, k.supervision_centre, k.engagements,
       ST_Multi(ST_Union(c.geom))
FROM csi_contract k JOIN csi_commune m ON m.contract_id = k.id JOIN commune c ON c.insee = m.commune_insee
GROUP BY k.id
ORDER BY type DESC, name, signed_on
"""


def _frame(engine: Engine, sql: str) -> gpd.GeoDataFrame:
    with connection(engine) as conn:
        frame = gpd.read_postgis(sa.text(sql), conn, geom_col="geom")
    return frame.rename_geometry("geometry").set_crs(2154, allow_override=True)


def _dated(frame: gpd.GeoDataFrame, today: dt.date) -> gpd.GeoDataFrame:
    """The conventions' next renewal and state, the contracts' end; every date as ISO text (all formats)."""
    next_on, state = [], []
    for row in frame.itertuples():
        if row.type == "csi":
            term = contract_term(row.signed_on, row.duration_years, today)
            next_on.append(term.ends_on)
            state.append("terminee" if term.ended else "echeance_proche" if term.near_end else "en_vigueur")
        else:
            ended = row.ended_on if isinstance(row.ended_on, dt.date) else None
            renewal = renewal_dates(row.signed_on, row.duration_years, today, ended)
            next_on.append(renewal.next_on)
            state.append(renewal.state)
    frame = frame.assign(next_on=next_on, state=state)
    for column in ("signed_on", "ended_on", "next_on"):
        frame[column] = frame[column].map(lambda d: d.isoformat() if isinstance(d, dt.date) else None)
    for column in ("volunteers", "municipal_police", "cameras"):  # counts, empty where the other type has none
        frame[column] = frame[column].astype("Int64")
    columns = ["type", "name", "communes", "signed_on", "duration_years", "next_on", "state", "volunteers",
               "ended_on", "municipal_police", "cameras", "supervision_centre", "engagements", "geometry"]
    return frame[columns]


def export_prevention(engine: Engine, what: str, fmt: str, out: Path | None,
                      today: dt.date | None = None) -> tuple[int, bytes | None]:
    """Write the référents, cameras or conventions (``what``) to ``out``; without ``out``, return the bytes
    (not for gpkg). Returns the number of features and, when no path was given, the file's content.

    Examples
    --------
    >>> count, content = export_prevention(engine, "referents", "csv", None)
    >>> count, content.decode().splitlines()[0]
    (0, 'name,kind,service,email,phone,communes,commune_count,inhabitants,geometry')
    """
    if what not in WHAT:
        raise ValueError(f"Unknown export '{what}': choose one of {', '.join(WHAT)}.")
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format '{fmt}': choose one of {', '.join(FORMATS)}.")
    frame = _frame(engine, {"referents": _REFERENTS, "cameras": _CAMERAS, "conventions": _CONVENTIONS}[what])
    if what == "conventions":
        frame = _dated(frame, today or local_today())
    content = write_vector(frame, fmt, out, layer=WHAT[what])
    with transaction(engine) as conn:
        audit(conn, f"export.{what}", target=str(out) if out else "stdout",
              details={"format": fmt, "features": len(frame)})
    return len(frame), content


__all__ = ["FORMATS", "WHAT", "export_prevention"]
