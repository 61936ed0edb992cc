"""The constants every package of geo/ shares (DESIGN.md sections 4 and 5).

One place for what would otherwise be written again in each module: where the
project's files are, the storage projection, the local time zone, the grid and the
clustering defaults, the tolerances of the loaders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

#: The clone's root: sql/, data/, web/static/ are found from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
DATA_DIR = PROJECT_ROOT / "data"
#: The days any date given by a user must fall in (query parameters, zone validity): outside, dates
#: are typos, and PostgreSQL's date arithmetic would overflow at the ends of the calendar.
DAYS_ACCEPTED = (dt.date(1990, 1, 1), dt.date(2100, 12, 31))
#: The base map ``psq demo`` builds (geo.territory.basemap), used by the app when no other is named.
DEMO_BASE_MAP = PROJECT_ROOT / ".psq" / "demo" / "fond-de-carte.pmtiles"

#: The roles of the web app's accounts (DESIGN.md section 4); the access policy says what each may do.
ROLES = ("admin", "chef_secteur", "referent", "maire", "partenaire")
#: Every geometry is stored in Lambert-93 (metres), metropolitan France and Corsica.
SRID = 2154
#: Days are local days: periods, months and weeks are those of Paris.
LOCAL_TZ = "Europe/Paris"

#: Side of a grid cell in metres, cells anchored at the Lambert-93 origin (i = floor(x / size)).
CELL_SIZE_M = 200.0
#: ST_ClusterDBSCAN defaults: neighbourhood radius (metres) and smallest cluster.
DBSCAN_EPS_M = 100.0
DBSCAN_MIN_POINTS = 10
#: Two versions of a sector are the same when they have the same name and every point
#: of each boundary lies within this distance of the other (Hausdorff distance, metres).
#: Rounding lon/lat to 6 or 7 decimals moves a vertex by 10 cm or 1 cm, a reprojection by
#: millimetres; an area tolerance cannot tell that from a change (a 30 km outline moved
#: by half a centimetre changes the area by 150 m²), a distance can.
SAME_BOUNDARY_M = 0.5
#: How long an import waits for its locks (PostgreSQL's lock_timeout) when a stronger lock is held (a
#: migration, a manual LOCK TABLE): then it stops, nothing written, rather than wait in the lock queue.
IMPORT_LOCK_TIMEOUT = "5s"


def local_today() -> dt.date:
    """Today in France, whatever the server's clock zone.

    Every default "today" (a version's start, the last full month, the end of an analysis) is this
    one, so that a load at 00:30 in Paris and the page read after it agree on the day.
    """
    return dt.datetime.now(ZoneInfo(LOCAL_TZ)).date()


def last_days(days: int = 365, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The ``days`` complete days ending yesterday: the default period of every page and command by days.

    Today is not over, so it is never in a default period (its count would read as a drop).

    >>> last_days(today=dt.date(2026, 12, 2))
    (datetime.date(2025, 12, 2), datetime.date(2026, 12, 1))
    """
    last = (today or local_today()) - dt.timedelta(days=1)
    return last - dt.timedelta(days=days - 1), last
