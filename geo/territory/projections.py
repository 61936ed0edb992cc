"""Which projection each territory is stored in (DESIGN.md section 4).

Metropolitan France and Corsica use Lambert-93 (EPSG:2154). The overseas
départements have official projections of their own; the schema keeps the SRID as a
property of the département so that they can be added later. Until then they are
refused, never stored in the wrong projection.
"""

from __future__ import annotations

from geo.errors import PsqError

METROPOLITAN_SRID = 2154

OVERSEAS_SRID = {
    "971": 5490,  # Guadeloupe: RGAF09 / UTM 20N
    "972": 5490,  # Martinique: RGAF09 / UTM 20N
    "973": 2972,  # Guyane: RGFG95 / UTM 22N
    "974": 2975,  # La Réunion: RGR92 / UTM 40S
    "976": 4471,  # Mayotte: RGM04 / UTM 38S
}


class UnsupportedTerritoryError(PsqError, ValueError):
    """A territory whose official projection is not stored yet."""


def srid_for_departement(code: str) -> int:
    """The SRID a département's geometry is stored in.

    >>> srid_for_departement("2A")
    2154
    >>> srid_for_departement("974")
    Traceback (most recent call last):
    ...
    geo.territory.projections.UnsupportedTerritoryError: Département 974 lies overseas: its official projection is EPSG:2975, and this version stores only metropolitan France and Corsica (EPSG:2154).
    """
    if code in OVERSEAS_SRID:
        raise UnsupportedTerritoryError(
            f"Département {code} lies overseas: its official projection is "
            f"EPSG:{OVERSEAS_SRID[code]}, and this version stores only metropolitan "
            f"France and Corsica (EPSG:{METROPOLITAN_SRID})."
        )
    return METROPOLITAN_SRID
