"""Writing GeoDataFrames as GeoJSON, GeoPackage or CSV (geometry as WKT).

GeoJSON and CSV are written in lon/lat (EPSG:4326, RFC 7946); a GeoPackage keeps the
frame's CRS unless told otherwise.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import pyogrio

FORMATS = ("geojson", "gpkg", "csv")


def write_vector(frame: gpd.GeoDataFrame, fmt: str, out: Path | None, layer: str,
                 gpkg_crs: int | None = None) -> bytes | None:
    """Write ``frame`` to ``out``; without ``out``, return the bytes (not for gpkg).

    Examples
    --------
    >>> import shapely
    >>> frame = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.Point(990000, 6720000)], crs=2154)
    >>> write_vector(frame, "csv", None, "x").decode().splitlines()[0]
    'code,geometry'
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format '{fmt}': choose one of {', '.join(FORMATS)}.")
    if fmt == "gpkg":
        if out is None:
            raise ValueError("A GeoPackage is a database file: give it a name with -o FILE.")
        pyogrio.write_dataframe(frame.to_crs(gpkg_crs) if gpkg_crs else frame, out, layer=layer, driver="GPKG")
        return None
    frame = frame.to_crs(4326)
    if fmt == "geojson":
        text = frame.to_json(drop_id=True, na="null")
    else:
        table = frame.drop(columns="geometry").assign(geometry=frame.geometry.to_wkt(rounding_precision=8))
        buffer = io.StringIO()
        table.to_csv(buffer, index=False)
        text = buffer.getvalue()
    if out is None:
        return text.encode()
    Path(out).write_text(text, encoding="utf-8")
    return None
