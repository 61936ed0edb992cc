"""The demo territory: Territoire de Belfort, the CSP Belfort's sectors, the real road
accidents of the département and a synthetic, seeded set of problems and occurrences;
its GPOs (geo.demo.gpo) and its prevention side: référents, cameras, conventions, an
audit request and a mayor's alerts (geo.demo.referents).

Real and synthetic data never mix: accidents have source ``ONISR``, generated data
source ``synthetic``.

The demo is always current: ``psq demo`` generates the synthetic data for the 104 weeks
ending with the last complete week before the day it runs (:func:`demo_end`), seeded, so
that the same day gives the same data; the seed is the first from :data:`SEED` on whose
draw the sector pages read every planted place as planted (:func:`demo_seed`,
geo.demo.check). What it planted (and the analysis should find) is written for those
dates to ``.psq/demo/planted.json``. Run on a later day, it replaces
the synthetic data of the earlier one. data/demo/planted.json is the same description for
the generator's reference weeks (ending 2026-11-15), which the tests load.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from geo.accounts.users import DuplicateEmailError, create_user
from geo.db.migrations import migrate
from geo.db.unit_of_work import transaction
from geo.demo.check import misread_places
from geo.demo.gpo import clear_demo_gpos, load_demo_gpos
from geo.demo.referents import link_demo_accounts, load_demo_prevention, load_demo_referents
from geo.demo.synthetic import DEFAULT_END, SyntheticDemo, generate, write_truth
from geo.ingest.accidents import load_accidents
from geo.ingest.communes import load_communes
from geo.ingest.occurrences import CANONICAL, write_occurrences
from geo.ingest.problems import write_problems
from geo.ingest.sectors import load_sectors
from geo.progress import progress
from geo.settings import DEMO_BASE_MAP, PROJECT_ROOT, local_today
from geo.territory.basemap import territory_basemap

ROOT = PROJECT_ROOT
DEPARTEMENT = "90"
SECTORS_FILE = ROOT / "data" / "boundaries" / "sectors-csp-belfort.geojson"
COMMUNES_FILE = ROOT / "data" / "boundaries" / "communes-90.geojson"
TRUTH_FILE = ROOT / "data" / "demo" / "planted.json"
#: What ``psq demo`` planted, for the dates it generated.
CURRENT_TRUTH_FILE = ROOT / ".psq" / "demo" / "planted.json"
# The demo sectors are fictitious; they are dated from before the oldest accident
# file so that every real accident falls in the sector drawn at its date.
SECTORS_VALID_FROM = dt.date(2000, 1, 1)
SYNTHETIC_SOURCE = "synthetic"
SEED = 2026
#: Seeds tried after SEED before :func:`demo_seed` gives up (a draw holds on most days at the first).
SEEDS_TRIED = 20


@dataclasses.dataclass
class DemoReport:
    lines: list[str]
    truth_file: Path


def demo_end(today: dt.date | None = None) -> dt.date:
    """The last day of the demo's synthetic data: the Sunday of the last complete week before ``today``.

    >>> demo_end(dt.date(2026, 12, 2)), demo_end(dt.date(2026, 11, 30)), demo_end(dt.date(2026, 11, 29))
    (datetime.date(2026, 11, 29), datetime.date(2026, 11, 29), datetime.date(2026, 11, 22))
    """
    yesterday = (today or local_today()) - dt.timedelta(days=1)
    return yesterday - dt.timedelta(days=(yesterday.weekday() + 1) % 7)


def load_demo(engine: Engine, say: Callable[[str], None] = lambda _: None,
              today: dt.date | None = None) -> DemoReport:
    """Load the whole demo into the database, its synthetic data ending with the last complete week.

    Idempotent on the same day (a second run adds nothing); on a later day the synthetic
    data are generated again for the new dates and replace the earlier ones.
    """
    end = demo_end(today)
    lines: list[str] = []

    def step(report_lines: list[str]) -> None:
        for line in report_lines:
            lines.append(line)
            say(line)

    steps = [
        ("schema", lambda: _migrated(engine)),
        ("communes", lambda: load_communes(engine, DEPARTEMENT).lines()),
        ("sectors", lambda: load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM).lines()),
        ("base map", lambda: territory_basemap(engine, DEMO_BASE_MAP, today).lines()),
        ("road accidents", lambda: load_accidents(engine, DEPARTEMENT).lines()),
        ("référents", lambda: load_demo_referents(engine)),
        # Before the synthetic occurrences: the mayor's opt-ins make their import write his alerts.
        ("accounts", lambda: demo_accounts(engine) + link_demo_accounts(engine)),
        ("synthetic data", lambda: load_synthetic(engine, end=end, truth_file=CURRENT_TRUTH_FILE,
                                                  demo=demo_seed(end)[1])),
        ("GPOs", lambda: load_demo_gpos(engine, end)),
        ("cameras, conventions, audits", lambda: load_demo_prevention(engine, end)),
    ]
    bar = progress(total=len(steps), desc="Demo", unit="step")
    for name, run in steps:
        bar.set_postfix_str(name)
        step(run())
        bar.update()
    bar.close()
    return DemoReport(lines, CURRENT_TRUTH_FILE)


# One account per role, with passwords printed on purpose: this is a demo territory
# with synthetic data; never reuse these on real data.
DEMO_PASSWORD = "demo-psq-belfort"
DEMO_ACCOUNTS = (
    ("admin@demo.psq.fr", "admin", {}, "Administrateur démo"),
    ("chef.centre@demo.psq.fr", "chef_secteur", {"sectors": ("BEL-CENTRE", "BEL-GLACIS")}, "Cheffe de secteur Centre"),
    ("referent@demo.psq.fr", "referent", {}, "Référent sûreté démo"),
    ("maire.belfort@demo.psq.fr", "maire", {"commune": "90010"}, "Maire de Belfort (démo)"),
    ("partenaire@demo.psq.fr", "partenaire", {}, "Bailleur social (démo)"),
)


def demo_accounts(engine: Engine) -> list[str]:
    """Create the demo accounts if missing; return the lines that give the logins."""
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for email, role, scope, name in DEMO_ACCOUNTS:
        try:
            create_user(engine, email, role, DEMO_PASSWORD, display_name=name, **scope)
        except DuplicateEmailError:
            pass  # a second run keeps the accounts (and their audit trail)
        where = ", ".join(scope.get("sectors", ())) or scope.get("commune", "")
        lines.append(f"  {role:<13} {email}" + (f"  ({where})" if where else ""))
    return lines


def _migrated(engine: Engine) -> list[str]:
    before, after = migrate(engine)
    return [] if before == after else [f"Schema migrated to revision {after}."]


def demo_seed(end: dt.date) -> tuple[int, SyntheticDemo]:
    """The first seed from :data:`SEED` whose synthetic data of the weeks ending ``end`` the sector pages read
    as planted (geo.demo.check), and those data.

    Raises ``RuntimeError`` if none of :data:`SEEDS_TRIED` seeds does (it never happened).
    """
    communes, sectors = gpd.read_file(COMMUNES_FILE), gpd.read_file(SECTORS_FILE)
    misread = []
    for seed in range(SEED, SEED + SEEDS_TRIED):
        demo = generate(communes, sectors, seed=seed, end=end)
        misread = misread_places(demo, sectors, end)
        if not misread:
            return seed, demo
    raise RuntimeError(f"No seed from {SEED} to {SEED + SEEDS_TRIED - 1} plants the demo's places as planted for "
                       f"the weeks ending {end}: " + "; ".join(misread))


def load_synthetic(engine: Engine, seed: int = SEED, end: dt.date = DEFAULT_END,
                   truth_file: Path | None = None, demo: SyntheticDemo | None = None) -> list[str]:
    """Generate the synthetic problems and occurrences of the weeks ending ``end`` and load them (source
    'synthetic'); with ``truth_file``, write there what was planted.

    ``demo``: data already generated (by :func:`demo_seed`), loaded instead; their seed and
    dates are read from their truth. Synthetic data of other dates already loaded are
    replaced (deleted first, in the same transaction); the same dates again add nothing.
    """
    if demo is None:
        demo = generate(gpd.read_file(COMMUNES_FILE), gpd.read_file(SECTORS_FILE), seed=seed, end=end)
    seed, end = demo.truth["seed"], dt.date.fromisoformat(demo.truth["weeks"]["end"])
    if truth_file is not None:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        write_truth(demo.truth, truth_file)
    occurrences = demo.occurrences.assign(line=range(1, len(demo.occurrences) + 1), address=None)
    occurrences["problem_external_id"] = occurrences["problem_external_id"].fillna("")
    tag = f"geo.demo.synthetic (seed {seed}, weeks ending {end})"
    with transaction(engine) as conn:
        replaced = _replace_other_dates(conn, tag)
        added, updated, _ = write_problems(conn, demo.problems, SYNTHETIC_SOURCE, file=tag, read=len(demo.problems))
        written, outside = write_occurrences(conn, occurrences[CANONICAL], SYNTHETIC_SOURCE, file=tag,
                                             read=len(occurrences))
    lines = [f"Synthetic data of earlier dates replaced ({replaced} occurrences deleted)."] if replaced else []
    return lines + [
        f"Synthetic demo data (seed {seed}, weeks ending Sunday {end}, source '{SYNTHETIC_SOURCE}'): "
        f"{len(demo.problems)} problems ({added} added, {updated} updated), {len(occurrences)} occurrences "
        f"({written} written, {len(occurrences) - written} already present, {outside} outside every sector).",
        *([f"What was planted is described in {_shown(truth_file)}."] if truth_file is not None else []),
    ]


def _replace_other_dates(conn, tag: str) -> int:
    """Delete the synthetic occurrences and problems if the last synthetic load was for other dates (another
    ``tag``); how many occurrences were deleted."""
    last = conn.execute(sa.text("SELECT file FROM import_batch WHERE source = :source ORDER BY id DESC LIMIT 1"),
                        {"source": SYNTHETIC_SOURCE}).scalar()
    if last is None or last == tag:
        return 0
    deleted = conn.execute(sa.text("DELETE FROM occurrence WHERE source = :source"), {"source": SYNTHETIC_SOURCE})
    clear_demo_gpos(conn)  # their meetings and actions refer to the problems
    conn.execute(sa.text("DELETE FROM problem WHERE source = :source"), {"source": SYNTHETIC_SOURCE})
    return deleted.rowcount


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)
