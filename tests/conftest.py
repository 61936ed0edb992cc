"""Fixtures of the Belfort territory and the demo data, shared by the tests under tests/.

The database, the app and the logged-in clients are in the root conftest.py (the
docstring examples of geo/ and layers/ use them too); Chromium and the live server in
tests/browser/conftest.py. A module that needs a territory of its own defines a
fixture of the same name, which overrides these (for example ``belfort`` in
tests/web/test_mayor_page.py, ``demo`` in tests/geo/demo/test_synthetic.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from geo.demo.loader import SECTORS_FILE, SECTORS_VALID_FROM, load_synthetic
from geo.ingest.communes import load_communes
from geo.ingest.sectors import load_sectors


@pytest.fixture
def territory(engine) -> int:
    """Communes of the Territoire de Belfort and the demo sectors of the CSP Belfort; the CSP's id."""
    load_communes(engine, "90")
    load_sectors(engine, SECTORS_FILE, valid_from=SECTORS_VALID_FROM)
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM csp WHERE name = 'CSP Belfort'")).scalar_one()


@pytest.fixture
def demo(engine, territory):
    """The territory with the demo's synthetic problems and occurrences."""
    load_synthetic(engine)


@pytest.fixture
def belfort(engine):
    """Communes of the Territoire de Belfort and the demo sectors, their first version valid from 2024-01-01."""
    load_communes(engine, "90")
    load_sectors(engine, SECTORS_FILE, valid_from=dt.date(2024, 1, 1))
