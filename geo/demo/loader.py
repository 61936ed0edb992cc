"""The demo territory: Territoire de Belfort, the CSP Belfort's sectors, the real road
accidents of the département and a synthetic, seeded set of problems and occurrences.

Real and synthetic data never mix: accidents have source ``ONISR``, generated data
source ``synthetic``. What the generator planted (and the analysis should find) is
written to data/demo/planted.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
from sqlalchemy.engine import Engine

from geo.accounts.users import DuplicateEmailError, create_user
from geo.db.migrations import migrate
from geo.db.unit_of_work import transaction
from geo.demo.synthetic import generate, write_truth
from geo.ingest.accidents import load_accidents
from geo.ingest.communes import load_communes
from geo.ingest.occurrences import CANONICAL, write_occurrences
from geo.ingest.problems import write_problems
from geo.ingest.sectors import load_sectors
from geo.progress import progress
from geo.settings import PROJECT_ROOT

ROOT = PROJECT_ROOT
DEPARTEMENT = "90"
SECTORS_FILE = ROOT / "data" / "boundaries" / "sectors-csp-belfort.geojson"
COMMUNES_FILE = ROOT / "data" / "boundaries" / "communes-90.geojson"
TRUTH_FILE = ROOT / "data" / "demo" / "planted.json"
# The demo sectors are fictitious; they are dated from before the oldest accident
# file so that every real accident falls in the sector drawn at its date.
SECTORS_VALID_FROM = dt.date(2000, 1, 1)
SYNTHETIC_SOURCE = "synthetic"
SEED = 2026


@dataclasses.dataclass
class DemoReport:
    lines: list[str]
    truth_file: Path


def load_demo(engine: Engine, say: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Load the whole demo into the database; idempotent (a second run adds nothing)."""
    lines: list[str] = []

    def step(report_lines: list[str]) -> None:
        for line in report_lines:
            lines.append(line)
            say(line)

    steps = [
        ("schema", lambda: _migrated(engine)),
        ("communes", lambda: load_communes(engine, DEPARTEMENT).lines()),
        ("sectors", lambda: load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM).lines()),
        ("road accidents", lambda: load_accidents(engine, DEPARTEMENT).lines()),
        ("synthetic data", lambda: load_synthetic(engine)),
        ("accounts", lambda: demo_accounts(engine)),
    ]
    bar = progress(total=len(steps), desc="Demo", unit="step")
    for name, run in steps:
        bar.set_postfix_str(name)
        step(run())
        bar.update()
    bar.close()
    return DemoReport(lines, TRUTH_FILE)


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


def load_synthetic(engine: Engine, seed: int = SEED) -> list[str]:
    """Generate the synthetic problems and occurrences and load them (source 'synthetic')."""
    demo = generate(gpd.read_file(COMMUNES_FILE), gpd.read_file(SECTORS_FILE), seed=seed)
    write_truth(demo.truth, TRUTH_FILE)
    occurrences = demo.occurrences.assign(line=range(1, len(demo.occurrences) + 1), address=None)
    occurrences["problem_external_id"] = occurrences["problem_external_id"].fillna("")
    with transaction(engine) as conn:
        added, updated, _ = write_problems(conn, demo.problems, SYNTHETIC_SOURCE, file="geo.demo.synthetic",
                                           read=len(demo.problems))
        written, outside = write_occurrences(conn, occurrences[CANONICAL], SYNTHETIC_SOURCE, file="geo.demo.synthetic",
                                             read=len(occurrences))
    return [
        f"Synthetic demo data (seed {seed}, source '{SYNTHETIC_SOURCE}'): {len(demo.problems)} problems "
        f"({added} added, {updated} updated), {len(occurrences)} occurrences ({written} written, "
        f"{len(occurrences) - written} already present, {outside} outside every sector).",
        f"What was planted is described in {TRUTH_FILE.relative_to(ROOT)}.",
    ]
