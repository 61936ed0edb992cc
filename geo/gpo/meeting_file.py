"""The meeting file of a GPO ("dossier de réunion"): everything its next meeting needs, gathered once.

The GPO, its members and next meeting date; the ranked agenda with its factors
(geo.gpo.agenda); the open actions, those whose due date falls before the meeting flagged
as overdue (as the agenda counts them); the decisions of the last meetings; the last
assessments; and a still map of the area with its hot spots and the agenda's problems
numbered by rank (geo.gpo.map_image). The web page, its PDF and ``psq report`` render it.

The hot spots are those of the sector page (geo.analysis.methods: Gi* of every category
together, the calibrated exact test with FDR, refused where the data cannot support a
finding), on each sector of the GPO, over the same 90 days as the agenda's counts. The
bind is the caller's: in the web app the user's scoped connection (row-level security).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo.analysis.hotspots import Grid, HotspotInputError
from geo.analysis.methods import gistar_cells, supported, with_squares
from geo.analysis.points import fetch_points
from geo.analysis.scopes import sectors_on_day
from geo.db.audit import audit
from geo.db.unit_of_work import connection, transaction
from geo.errors import NotFound
from geo.formats import day as day_text
from geo.gpo.agenda import WINDOW_DAYS, Agenda, agenda
from geo.gpo.assessment import StoredAssessment, last_assessments
from geo.gpo.groups import Gpo, get_gpo, gpo_area
from geo.gpo.map_image import area_map_png
from geo.gpo.meetings import Action, Meeting, actions, meetings
from geo.settings import CELL_SIZE_M, SRID, local_today

if TYPE_CHECKING:  # the scope's type only: geo.accounts' policy asks this package (no import circle)
    from geo.accounts.users import UserScope

#: The meetings whose decisions the file recalls, and the assessments it shows.
LAST_MEETINGS = 3
LAST_ASSESSMENTS = 5


@dataclasses.dataclass(frozen=True)
class MeetingFile:
    """What the meeting file shows. ``actions`` are the open ones; overdue: due before ``meeting_on``."""

    gpo: Gpo
    meeting_on: dt.date
    made_on: dt.date
    agenda: Agenda
    actions: tuple[Action, ...]
    meetings: tuple[Meeting, ...]
    assessments: tuple[StoredAssessment, ...]
    map_png: bytes
    hot_period: tuple[dt.date, dt.date]
    map_notes: tuple[str, ...]

    @property
    def overdue(self) -> tuple[Action, ...]:
        """The open actions whose due date falls before the meeting."""
        return tuple(a for a in self.actions if a.overdue_on(self.meeting_on))

    @property
    def map_data_uri(self) -> str:
        """The map as a ``data:`` URI, for an ``<img>`` that needs no second request."""
        return "data:image/png;base64," + base64.b64encode(self.map_png).decode("ascii")

    @property
    def filename(self) -> str:
        """The PDF's file name: ``gpo-12-2026-12-15.pdf``."""
        return f"gpo-{self.gpo.id}-{self.meeting_on.isoformat()}.pdf"


def meeting_file(bind: Engine | Connection, scope: UserScope, gpo_id: int, day: dt.date | None = None,
                 *, width_px: int = 1400) -> MeetingFile:
    """The meeting file of GPO ``gpo_id`` for its meeting on ``day`` (default: its next meeting from today).

    Raises NotFound (404) for a GPO outside the scope.
    """
    today = local_today()
    with connection(bind) as conn:
        gpo = get_gpo(conn, scope, gpo_id)
        if gpo is None:
            raise NotFound(f"Aucun GPO n° {gpo_id} dans votre périmètre.")
        meeting_on = day or gpo.next_meeting_on(today)
        ranked = agenda(conn, gpo, meeting_on)
        period = hot_period(meeting_on, today)
        hot, notes = hot_cells(conn, gpo, *period)
        area = gpo_area(conn, gpo, period[1])
        png = area_map_png(area, hot_cells=hot, problems=_problem_places(conn, ranked),
                           context=_neighbours(conn, gpo, period[1]), width_px=width_px,
                           title=f"{gpo.name} — réunion du {day_text(meeting_on)}")
        return MeetingFile(gpo, meeting_on, today, ranked, tuple(actions(conn, scope, gpo_id=gpo_id, open_only=True)),
                           tuple(meetings(conn, scope, gpo_id)[:LAST_MEETINGS]),
                           tuple(last_assessments(conn, gpo_id, LAST_ASSESSMENTS)), png, period, tuple(notes))


def hot_period(meeting_on: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """The agenda's 90 days (first and last, both included): they end the day before the meeting, or yesterday.

    >>> hot_period(dt.date(2026, 12, 15), dt.date(2026, 12, 1))
    (datetime.date(2026, 9, 2), datetime.date(2026, 11, 30))
    """
    until = min(meeting_on, today)
    return until - dt.timedelta(days=WINDOW_DAYS), until - dt.timedelta(days=1)


def hot_cells(bind: Engine | Connection, gpo: Gpo, first: dt.date, last: dt.date
              ) -> tuple[gpd.GeoDataFrame | None, list[str]]:
    """The Gi* cells (``i``, ``j``, ``gi_bin``, squares in EPSG:2154) of the GPO's sectors in force on ``last``,
    each sector on its own grid as the sector page computes it; French notes where a sector gives no finding."""
    frames, notes = [], []
    for sector in sectors_on_day(bind, last, keys=gpo.sector_keys):
        points = fetch_points(bind, sector.scope(), first, last, None)
        if gpo.categories:
            points = points.where(np.isin(points.category, list(gpo.categories)))
        try:
            cells = supported(gistar_cells(points, Grid.from_polygon(sector.geometry, size=CELL_SIZE_M)),
                              len(points.x))
        except HotspotInputError as error:
            notes.append(f"Points chauds, secteur {sector.code} : {error.user_message}")
            continue
        frames.append(cells.frame[cells.frame.gi_bin > 0][["i", "j", "gi_bin"]])
    if not frames:
        return None, notes
    return with_squares(pd.concat(frames, ignore_index=True)), notes


def _problem_places(conn: Connection, ranked: Agenda) -> gpd.GeoDataFrame | None:
    """The agenda's problems with their geometry and rank (those the bind may see)."""
    ranks = {line.problem_id: line.rank for line in ranked.lines}
    if not ranks:
        return None
    rows = conn.execute(sa.text("SELECT id, ST_AsBinary(geom) FROM problem WHERE id = ANY (:ids) ORDER BY id"),
                        {"ids": list(ranks)}).all()
    return gpd.GeoDataFrame({"rank": [ranks[r[0]] for r in rows]},
                            geometry=[shapely.from_wkb(bytes(r[1])) for r in rows], crs=SRID)


def _neighbours(conn: Connection, gpo: Gpo, day: dt.date) -> gpd.GeoDataFrame | None:
    """The other sectors of the GPO's CSP in force on ``day``, drawn in grey around its area."""
    others = [s for s in sectors_on_day(conn, day, csp_id=gpo.csp_id) if s.code not in gpo.sector_codes]
    if not others:
        return None
    return gpd.GeoDataFrame({"code": [s.code for s in others]}, geometry=[s.geometry for s in others], crs=SRID)


def audit_export(bind: Engine | Connection, file: MeetingFile, *, user_id: int | None = None,
                 ip: str | None = None) -> None:
    """Write the export of a meeting file as PDF (police data leaving the app) to the audit log."""
    with transaction(bind) as conn:
        audit(conn, "export.meeting_file", user_id=user_id, target=f"gpo:{file.gpo.id}",
              details={"meeting_on": file.meeting_on.isoformat(), "format": "pdf"}, ip=ip)


__all__ = ["LAST_ASSESSMENTS", "LAST_MEETINGS", "MeetingFile", "audit_export", "hot_cells", "hot_period", "meeting_file"]
