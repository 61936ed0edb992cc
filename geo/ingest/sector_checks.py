"""The checks a sector file must pass before anything is written.

Each check returns sentences, one per fault, naming the feature (its position in the
file and its code) and what is wrong. Sectors are compared in Lambert-93 so that areas
are in square metres.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.validation import explain_validity

from geo.ingest.vector_file import VectorFileError, feature_label

POLYGONAL = {"Polygon", "MultiPolygon"}
MAX_OVERLAP_M2 = 1.0
MIN_GAP_M2 = 1.0


def field_named(gdf: gpd.GeoDataFrame, wanted: str | None, defaults: tuple[str, ...], role: str, option: str) -> str:
    """The column holding ``role`` (code, name...), given or found among ``defaults``."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if wanted:
        if wanted not in columns:
            raise VectorFileError(
                f"the file has no field '{wanted}' for the sector {role}; its fields are: {', '.join(columns)}."
            )
        return wanted
    lowered = {c.lower(): c for c in columns}
    for candidate in defaults:
        if candidate in lowered:
            return lowered[candidate]
    raise VectorFileError(
        f"the file has no field for the sector {role} (looked for {', '.join(defaults)}; its fields are: "
        f"{', '.join(columns) or 'none'}): name it with {option}."
    )


def missing_values(gdf: gpd.GeoDataFrame, column: str, role: str, codes) -> list[str]:
    problems = []
    for position, (value, code) in enumerate(zip(gdf[column], codes), start=1):
        if value is None or (isinstance(value, float) and value != value) or str(value).strip() == "":
            problems.append(f"{feature_label(position, code if role != 'code' else None)} has no {role}.")
    return problems


def duplicate_codes(codes) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for position, code in enumerate(codes, start=1):
        if code is None:
            continue
        if code in seen:
            problems.append(f"code {code} is used by features {seen[code]} and {position}: each sector needs its own code.")
        else:
            seen[code] = position
    return problems


def non_polygons(geometries, codes) -> list[str]:
    problems = []
    for position, (geometry, code) in enumerate(zip(geometries, codes), start=1):
        if geometry is None or geometry.is_empty:
            problems.append(f"{feature_label(position, code)} has no geometry.")
        elif geometry.geom_type not in POLYGONAL:
            problems.append(
                f"{feature_label(position, code)} is a {geometry.geom_type}: a sector must be a Polygon or MultiPolygon."
            )
    return problems


def invalid_polygons(geometries, codes, crs_label: str) -> list[tuple[int, str]]:
    """(index, sentence) for each polygon that is not valid (self-intersection...)."""
    found = []
    for index, (geometry, code) in enumerate(zip(geometries, codes)):
        if geometry is not None and geometry.geom_type in POLYGONAL and not geometry.is_valid:
            reason = _readable_reason(explain_validity(geometry), crs_label)
            found.append((index, f"{feature_label(index + 1, code)} is not a valid polygon: {reason}"))
    return found


def repair(geometry) -> shapely.Geometry:
    """make_valid, keeping only the polygonal parts, as a MultiPolygon."""
    fixed = shapely.make_valid(geometry)
    polygons = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in POLYGONAL]
    parts = []
    for polygon in polygons:
        parts.extend(getattr(polygon, "geoms", [polygon]))
    return shapely.MultiPolygon(parts)


def overlaps(geometries_2154, codes) -> list[str]:
    """Pairs of sectors overlapping by more than MAX_OVERLAP_M2 square metres."""
    geometries = list(geometries_2154)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    problems = []
    for i, j in zip(left, right):
        if i >= j:
            continue
        area = shapely.intersection(geometries[i], geometries[j]).area
        if area > MAX_OVERLAP_M2:
            problems.append(
                f"sectors {codes[i]} (feature {i + 1}) and {codes[j]} (feature {j + 1}) overlap by "
                f"{format_area(area)}: a place must belong to one sector only."
            )
    return problems


def gaps(geometries_2154) -> list[tuple[float, shapely.Point]]:
    """Holes inside the union of the sectors (areas no sector covers), with a point in each."""
    union = shapely.union_all(list(geometries_2154))
    found = []
    for polygon in getattr(union, "geoms", [union]):
        for ring in polygon.interiors:
            hole = shapely.Polygon(ring)
            if hole.area > MIN_GAP_M2:
                found.append((hole.area, hole.representative_point()))
    return sorted(found, key=lambda item: -item[0])


def _readable_reason(reason: str, crs_label: str) -> str:
    # shapely says "Self-intersection[x y]"; say it in words with the file's CRS.
    if "[" in reason and reason.endswith("]"):
        what, where = reason[:-1].split("[", 1)
        x, y = (float(v) for v in where.split()[:2])
        return f"{what.lower()} at ({x:.6g}, {y:.6g}) in {crs_label}."
    return reason + "."


def format_area(m2: float) -> str:
    if m2 >= 1e6:
        return f"{m2 / 1e6:,.3f} km²"
    return f"{m2:,.0f} m²"

