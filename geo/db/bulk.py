"""Bulk writes to PostgreSQL with COPY, through a SQLAlchemy connection.

Row-by-row INSERTs cost a round trip each; COPY streams rows in one statement
(DESIGN.md section 9). Geometries travel as hex EWKB, which PostGIS reads directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import shapely
from sqlalchemy.engine import Connection


def ewkb_hex(geometry, srid: int) -> str | None:
    """Hex EWKB of a shapely geometry with its SRID, or None for a missing one.

    >>> ewkb_hex(shapely.Point(1, 2), 2154)
    '01010000206A080000000000000000F03F0000000000000040'
    """
    if geometry is None:
        return None
    return shapely.to_wkb(shapely.set_srid(geometry, srid), hex=True, include_srid=True)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY ``rows`` into ``table(columns)`` on the connection's transaction.

    Returns the number of rows written.
    """
    cursor = conn.connection.driver_connection.cursor()
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
