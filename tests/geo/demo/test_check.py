"""The demo's seed choice (geo.demo.check, geo.demo.loader.demo_seed): the in-memory check predicts what the
sector page shows, so the seed it picks makes every planted place read as planted on the page."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd

from geo.analysis.scopes import sector_on_day
from geo.analysis.sector_view import ViewFilters, analyse
from geo.demo.check import misread_places, planted_cells
from geo.demo.loader import COMMUNES_FILE, SECTORS_FILE, demo_seed, load_synthetic
from geo.demo.synthetic import generate
from geo.problems.categories import categories

# The weeks ending Sunday 2026-10-04 (the demo built on Wednesday 2026-10-07): with the base seed, the planted
# persistent parking place of BEL-MIOTTE (PL08) reads as intensifying, a chance of that draw.
END = dt.date(2026, 10, 4)


def page_classes(engine, sector_code: str, end: dt.date) -> dict[tuple[int, int, str], str]:
    """(i, j, category label) -> emerging class, as the sector page's default view computes them."""
    sector = sector_on_day(engine, end, code=sector_code)
    cells = analyse(engine, sector, ViewFilters(end - dt.timedelta(days=364), end, None)).emerging
    return {(int(i), int(j), c): t for i, j, c, t in zip(cells.i, cells.j, cells.category, cells.emerging_category)}


def test_the_check_predicts_the_page_and_the_chosen_seed_holds(engine, territory):
    communes, sectors = gpd.read_file(COMMUNES_FILE), gpd.read_file(SECTORS_FILE)
    first = generate(communes, sectors, seed=2026, end=END)
    assert misread_places(first, sectors, END) == [
        "PL08 (BEL-MIOTTE, stationnement): ['intensifying hot spot'] instead of ['persistent hot spot']"]
    labels = {c.code: c.label for c in categories()}
    load_synthetic(engine, demo=first)
    [(_, _, category, cell, _)] = [row for row in planted_cells(first.truth) if row[0] == "PL08"]
    assert page_classes(engine, "BEL-MIOTTE", END)[(cell["i"], cell["j"], labels[category])] == "intensifying hot spot"

    seed, chosen = demo_seed(END)
    assert seed > 2026 and misread_places(chosen, sectors, END) == []
    load_synthetic(engine, demo=chosen)
    for place, sector, category, cell, expected in planted_cells(chosen.truth):
        shown = page_classes(engine, sector, END).get((cell["i"], cell["j"], labels[category]), "no pattern")
        assert shown == (expected if expected == "no pattern" else f"{expected} hot spot"), place


def test_the_same_day_gives_the_same_seed():
    assert demo_seed(END)[0] == demo_seed(END)[0]
