"""``psq export hotspots RUN``: the cells (or clusters) of a stored run, in EPSG:4326.

Cells become squares: cell (i, j) of size s is [i s, (i + 1) s) x [j s, (j + 1) s) in
Lambert-93; on a hexagon grid, (i, j) are the axial ids (q, r) of hexagons of area s². Columns: i, j, count, z, p, significant (FDR-adjusted p <= 0.05), gi_bin,
and emerging_category and trend, or density, when the method computed them. For
an emerging run, z, p, significant and gi_bin are those of the final time step.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.analysis.hotspots import HotspotInputError
from geo.analysis.hotspots.hexgrid import hex_polygons
from geo.db.audit import audit
from geo.db.unit_of_work import connection, transaction
from geo.export.vector import write_vector

_CELLS = """
SELECT c.i, c.j, c.count, c.z, c.p, c.significant, c.gi_bin, c.density, c.emerging_category, c.trend,
       ST_MakeEnvelope(c.i * r.cell_size, c.j * r.cell_size, (c.i + 1) * r.cell_size, (c.j + 1) * r.cell_size, 2154)
           AS geometry
FROM hotspot_cell c JOIN hotspot_run r ON r.id = c.run_id
WHERE c.run_id = :run ORDER BY c.i, c.j
"""
_CLUSTERS = "SELECT cluster_id, occurrences, hull AS geometry FROM hotspot_cluster WHERE run_id = :run ORDER BY cluster_id"
_METHOD_COLUMNS = {
    "gistar": ["i", "j", "count", "z", "p", "significant", "gi_bin", "geometry"],
    "emerging": ["i", "j", "count", "z", "p", "significant", "gi_bin", "emerging_category", "trend", "geometry"],
    "kde": ["i", "j", "count", "density", "geometry"],
}


def run_frame(engine: Engine, run_id: int) -> tuple[str, gpd.GeoDataFrame]:
    """The method of a run and its cells or clusters (EPSG:2154)."""
    with connection(engine) as conn:
        run = conn.execute(sa.text("SELECT method, params, cell_size FROM hotspot_run WHERE id = :run"),
                           {"run": run_id}).first()
        if run is None:
            raise HotspotInputError(f"no hotspot run {run_id}")
        method = run.method
        query = _CLUSTERS if method == "dbscan" else _CELLS
        frame = gpd.read_postgis(sa.text(query), conn, geom_col="geometry", params={"run": run_id}, crs=2154)
    if run.params.get("grid") == "hex":  # cells are hexagons (q, r), not squares
        frame["geometry"] = hex_polygons(frame["i"].to_numpy(), frame["j"].to_numpy(), run.cell_size)
    if method in _METHOD_COLUMNS:
        frame = frame[_METHOD_COLUMNS[method]]
    return method, frame


def export_hotspots(engine: Engine, run_id: int, fmt: str, out: Path | None) -> tuple[int, bytes | None]:
    method, frame = run_frame(engine, run_id)
    content = write_vector(frame, fmt, out, layer=f"hotspot_{method}_{run_id}", gpkg_crs=4326)
    with transaction(engine) as conn:
        audit(conn, "export.hotspots", target=f"hotspot_run:{run_id}",
              details={"format": fmt, "rows": len(frame), "file": str(out) if out else "stdout"})
    return len(frame), content
