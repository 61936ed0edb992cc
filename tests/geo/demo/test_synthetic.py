"""The synthetic demo data: deterministic, well formed, and true to its planted behaviours.

No database here: the generator takes GeoDataFrames and returns frames.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from statistics import NormalDist

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.demo import synthetic
from geo.demo.synthetic import CATEGORIES, CELL_SIZE_M, generate, mann_kendall_z

REQUIRED_BEHAVIOURS = {"new", "persistent", "intensifying", "diminishing", "sporadic", "displaced"}
OCCURRENCE_COLUMNS = ["external_id", "category", "occurred_at", "x", "y", "description", "problem_external_id"]
PROBLEM_COLUMNS = ["external_id", "category", "title", "description", "status", "partner", "reported_on",
                   "geometry"]


@pytest.fixture(scope="module")
def communes():
    return gpd.read_file(synthetic.DEMO_COMMUNES)


@pytest.fixture(scope="module")
def sectors():
    return gpd.read_file(synthetic.DEMO_SECTORS)


@pytest.fixture(scope="module")
def demo(communes, sectors):
    return generate(communes, sectors)


@pytest.fixture(scope="module")
def scope(sectors):
    """The cells of the CSP (centre inside a sector), as a boolean mask over a box."""
    union = shapely.union_all(sectors.to_crs(2154).geometry.values)
    xmin, ymin, xmax, ymax = union.bounds
    i0, j0 = math.floor(xmin / CELL_SIZE_M), math.floor(ymin / CELL_SIZE_M)
    ii, jj = np.meshgrid(np.arange(i0, math.floor(xmax / CELL_SIZE_M) + 1),
                         np.arange(j0, math.floor(ymax / CELL_SIZE_M) + 1))
    mask = shapely.contains_xy(union, (ii + 0.5) * CELL_SIZE_M, (jj + 0.5) * CELL_SIZE_M)
    return i0, j0, mask


# ------------------------------------------------------------------ helpers


def week_index(occ: pd.DataFrame, truth: dict) -> np.ndarray:
    first = pd.Timestamp(truth["weeks"]["first_monday"])
    return ((occ["occurred_at"].dt.tz_localize(None) - first).dt.days // 7).to_numpy()


def cells(occ: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (np.floor(occ["x"].to_numpy() / CELL_SIZE_M).astype(int),
            np.floor(occ["y"].to_numpy() / CELL_SIZE_M).astype(int))


def weekly_in_cell(demo, category: str, cell: dict) -> np.ndarray:
    """Every occurrence of the category in the cell, planted or not, per week."""
    occ = demo.occurrences[demo.occurrences["category"] == category]
    i, j = cells(occ)
    w = week_index(occ, demo.truth)[(i == cell["i"]) & (j == cell["j"])]
    return np.bincount(w, minlength=demo.truth["weeks"]["count"])


def locations(place: dict) -> list[dict]:
    return [place["old"], place["new"]] if place["behaviour"] == "displaced" else [place]


def spearman(a, b) -> float:
    return float(np.corrcoef(pd.Series(a).rank(), pd.Series(b).rank())[0, 1])


def cube(demo, category: str, scope) -> np.ndarray:
    i0, j0, mask = scope
    occ = demo.occurrences[demo.occurrences["category"] == category]
    i, j = cells(occ)
    w = week_index(occ, demo.truth)
    i, j = i - i0, j - j0
    ok = (i >= 0) & (j >= 0) & (i < mask.shape[1]) & (j < mask.shape[0])
    x = np.zeros((demo.truth["weeks"]["count"], *mask.shape))
    np.add.at(x, (w[ok], j[ok], i[ok]), 1)
    return x * mask


def box3(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)])
    h, w = a.shape[-2:]
    return sum(p[..., 1 + di:1 + di + h, 1 + dj:1 + dj + w] for di in (-1, 0, 1) for dj in (-1, 0, 1))


def gi_star(x: np.ndarray, mask: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z per cell and week (queen, self included, ``lag`` earlier weeks), and BH-significance.

    A small reference written for these checks (DESIGN.md section 5), not the project's.
    """
    n_cells = int(mask.sum())
    # Benjamini-Hochberg at 0.05 in z terms: the k-th largest |z| must reach these.
    need = np.array([NormalDist().inv_cdf(1 - 0.05 * k / (2 * n_cells)) for k in range(1, n_cells + 1)])
    w_space = box3(mask.astype(float))
    z_all, sig_all = np.zeros_like(x), np.zeros(x.shape, bool)
    for t in range(x.shape[0]):
        lo = max(0, t - lag)
        block = x[lo:t + 1]
        values = block[:, mask]
        n, mean, sd = values.size, values.mean(), values.std()
        w = w_space * (t + 1 - lo)
        den = sd * np.sqrt((n * w - w ** 2) / (n - 1))
        z = np.where(mask & (den > 0), (box3(block).sum(0) - mean * w) / np.where(den > 0, den, 1), 0.0)
        a = np.sort(np.abs(z[mask]))[::-1]
        passed = np.flatnonzero(a >= need)
        if len(passed):
            sig_all[t] = mask & (np.abs(z) >= a[passed[-1]])
        z_all[t] = z
    return z_all, sig_all


def emerging_class(z: np.ndarray, sig: np.ndarray) -> str:
    hot, cold = sig & (z > 0), sig & (z < 0)
    if hot[-1] and not hot[:-1].any():
        return "new"
    trend = mann_kendall_z(z)
    if hot.mean() >= 0.9:
        if not hot[-1]:
            return "historical"
        return "intensifying" if trend > 1.96 else "diminishing" if trend < -1.96 else "persistent"
    if hot[-1]:
        run = len(hot) - np.flatnonzero(~hot)[-1] - 1
        if run >= 2 and not hot[:len(hot) - run].any():
            return "consecutive"
        return "oscillating" if cold.any() else "sporadic"
    return "no pattern"


# ------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_output(demo, communes, sectors):
    again = generate(communes, sectors)
    pd.testing.assert_frame_equal(demo.occurrences, again.occurrences)
    pd.testing.assert_frame_equal(demo.problems.drop(columns="geometry"), again.problems.drop(columns="geometry"))
    assert list(demo.problems.geometry.to_wkb()) == list(again.problems.geometry.to_wkb())
    assert json.dumps(demo.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)


def test_input_order_and_crs_do_not_matter(demo, communes, sectors):
    shuffled = communes.iloc[::-1].to_crs(2154)
    again = generate(shuffled, sectors.iloc[::-1])
    pd.testing.assert_frame_equal(demo.occurrences, again.occurrences)


def test_another_seed_gives_other_output(demo, communes, sectors):
    other = generate(communes, sectors, seed=7)
    assert len(other.occurrences) != len(demo.occurrences) or not other.occurrences.equals(demo.occurrences)
    assert other.truth["places"] != demo.truth["places"]
    # The planted spots are the demo's, whatever the seed.
    assert [p["cell"] for p in other.truth["places"]] == [p["cell"] for p in demo.truth["places"]]


def test_committed_truth_is_what_the_generator_writes(tmp_path):
    out = synthetic.main(tmp_path / "planted.json")
    assert out.read_bytes() == synthetic.DEMO_TRUTH.read_bytes()


def test_write_truth_is_sorted_pretty_json(tmp_path, demo):
    path = synthetic.write_truth(demo.truth, tmp_path / "t.json")
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ shape of the output


def test_occurrence_columns_and_types(demo):
    occ = demo.occurrences
    assert list(occ.columns) == OCCURRENCE_COLUMNS
    assert occ["external_id"].is_unique
    assert occ["external_id"].str.fullmatch(r"syn-\d{6}").all()
    assert set(occ["category"]) <= set(CATEGORIES)
    assert str(occ["occurred_at"].dt.tz) == "Europe/Paris"
    assert isinstance(occ["occurred_at"].iloc[0], pd.Timestamp)
    assert occ["x"].dtype == np.float64 and occ["y"].dtype == np.float64
    assert occ["description"].map(lambda d: isinstance(d, str) and len(d) > 5).all()
    linked = occ["problem_external_id"]
    assert linked.map(lambda v: v is None or isinstance(v, str)).all()
    assert set(linked.dropna()) <= set(demo.problems["external_id"])
    assert occ["occurred_at"].is_monotonic_increasing


def test_occurrences_lie_in_the_window(demo):
    weeks = week_index(demo.occurrences, demo.truth)
    assert weeks.min() == 0 and weeks.max() == demo.truth["weeks"]["count"] - 1
    assert demo.truth["weeks"]["last_monday"] == "2026-11-09"
    assert demo.truth["weeks"]["first_monday"] == "2024-11-18"


def test_volume_and_categories(demo):
    counts = demo.occurrences["category"].value_counts()
    assert 15_000 <= len(demo.occurrences) <= 30_000
    assert set(counts.index) == set(CATEGORIES) - {"securite_routiere"}
    assert counts.min() > 1000
    assert demo.truth["counts"]["by_category"] == {c: int(counts.get(c, 0)) for c in CATEGORIES}


def test_problem_columns_kinds_and_statuses(demo):
    pb = demo.problems
    assert list(pb.columns) == PROBLEM_COLUMNS
    assert pb.crs.to_epsg() == 2154
    assert pb["external_id"].is_unique and pb["external_id"].str.fullmatch(r"syn-pb-\d{3}").all()
    assert set(pb.geometry.geom_type) == {"Point", "LineString", "Polygon"}
    assert set(pb["status"]) == set(synthetic.STATUSES)
    assert set(pb["category"]) == set(CATEGORIES)
    assert pb.geometry.is_valid.all()
    assert pb["reported_on"].map(lambda d: isinstance(d, dt.date) and d <= dt.date(2026, 11, 15)).all()
    assert pb[["title", "description", "partner"]].map(lambda v: isinstance(v, str) and v).all().all()
    planted = {pid for p in demo.truth["places"] for pid in p["problem_external_ids"]}
    assert 15 <= len(pb) - len(planted) <= 30
    assert not demo.occurrences["category"].eq("securite_routiere").any()


def test_problems_lie_in_the_sectors(demo, sectors):
    union = shapely.union_all(sectors.to_crs(2154).geometry.values)
    assert demo.problems.geometry.within(union).all()


def test_every_occurrence_is_in_the_departement(demo, communes):
    dept = shapely.union_all(communes.to_crs(2154).geometry.values)
    assert shapely.contains_xy(dept, demo.occurrences["x"], demo.occurrences["y"]).all()


# ------------------------------------------------------------------ planted places


def test_every_behaviour_is_planted(demo):
    behaviours = {p["behaviour"] for p in demo.truth["places"]}
    assert REQUIRED_BEHAVIOURS <= behaviours
    assert len(demo.truth["places"]) >= 8


def test_planted_places_are_apart_in_their_own_cells_inside_sectors(demo, sectors):
    sectors = sectors.to_crs(2154).set_index("code")
    spots = [(p["id"], loc) for p in demo.truth["places"] for loc in locations(p)]
    assert len({(loc["cell"]["i"], loc["cell"]["j"]) for _, loc in spots}) == len(spots)
    for a, (ida, la) in enumerate(spots):
        x, y = la["centre"]["x"], la["centre"]["y"]
        assert (la["cell"]["i"], la["cell"]["j"]) == synthetic.cell_of(x, y)
        assert min(x % 200, 200 - x % 200, y % 200, 200 - y % 200) >= 60  # room for the scatter
        assert sectors.geometry[la["sector"]].contains(shapely.Point(x, y))
        for idb, lb in spots[a + 1:]:
            if ida != idb:
                assert math.dist((x, y), (lb["centre"]["x"], lb["centre"]["y"])) >= 600


def test_displaced_place_moved_next_door(demo):
    place = next(p for p in demo.truth["places"] if p["behaviour"] == "displaced")
    old, new = place["old"], place["new"]
    assert 300 <= math.dist((old["centre"]["x"], old["centre"]["y"]), (new["centre"]["x"], new["centre"]["y"])) <= 500
    # Neighbouring but not adjacent: two cells apart, so not queen neighbours.
    assert max(abs(old["cell"]["i"] - new["cell"]["i"]), abs(old["cell"]["j"] - new["cell"]["j"])) == 2
    assert place["action_week_start"] == synthetic.week_starts(dt.date(2026, 11, 15), 104)[place["action_week"]].isoformat()


def test_planted_points_stay_in_their_cell(demo):
    occ = demo.occurrences
    for place in demo.truth["places"]:
        for loc in locations(place):
            pid = loc["problem_external_ids"][0]
            mine = occ[occ["problem_external_id"] == pid]
            d = np.hypot(mine["x"] - loc["centre"]["x"], mine["y"] - loc["centre"]["y"])
            assert d.max() <= place["radius_m"] + 0.1
            i, j = cells(mine)
            assert ((i == loc["cell"]["i"]) & (j == loc["cell"]["j"])).all()
            weeks = np.bincount(week_index(mine, demo.truth), minlength=104)
            assert weeks.tolist() == loc["weekly_counts"]


@pytest.mark.parametrize("seed", [2026, 11])
def test_weekly_counts_follow_each_behaviour(communes, sectors, seed):
    demo = generate(communes, sectors, seed=seed)
    weeks = demo.truth["weeks"]["count"]
    t = np.arange(weeks)
    for place in demo.truth["places"]:
        kind = place["behaviour"]
        counts = weekly_in_cell(demo, place["category"], place["cell"])
        hot = counts >= 3
        if kind == "new":
            assert counts[:-1].sum() == 0 and counts[-1] >= 5
        elif kind == "consecutive":
            assert counts[:-3].sum() == 0 and (counts[-3:] >= 2).all()
        elif kind == "persistent":
            assert hot.mean() >= 0.95
            assert abs(spearman(t, counts)) < 0.2
        elif kind == "intensifying":
            assert hot.mean() >= 0.95
            assert spearman(t, counts) > 0.5 and mann_kendall_z(counts) > 3
            assert counts[-weeks // 4:].mean() > 2 * counts[:weeks // 4].mean()
        elif kind == "diminishing":
            assert hot.mean() >= 0.95 and hot[-1]
            assert spearman(t, counts) < -0.5 and mann_kendall_z(counts) < -3
        elif kind == "sporadic":
            assert 0.25 <= (counts >= 5).mean() <= 0.55
            assert counts[-1] >= 5 and counts[-2] < 5
        elif kind == "school_term":
            school = np.array(place["weekly_expected"]) > 0
            assert counts[~school].sum() == 0 and (counts[school] >= 2).mean() >= 0.9
        elif kind == "displaced":
            action = place["action_week"]
            old = weekly_in_cell(demo, place["category"], place["old"]["cell"])
            new = weekly_in_cell(demo, place["category"], place["new"]["cell"])
            assert (old[:action] >= 3).mean() >= 0.95 and old[action:].sum() == 0
            assert new[:action].sum() == 0 and (new[action:] >= 3).mean() >= 0.95
            assert 10 <= action <= weeks - 10


def test_planted_cells_are_significant_gi_star_hotspots(demo, scope):
    """Weekly Gi* per category, no time lag: planted cells are hot when they should be."""
    i0, j0, mask = scope
    for place in demo.truth["places"]:
        z, sig = gi_star(cube(demo, place["category"], scope), mask, lag=0)
        for loc in locations(place):
            c = (slice(None), loc["cell"]["j"] - j0, loc["cell"]["i"] - i0)
            planted_hot = np.array(loc["weekly_expected"]) >= 4
            hot = sig[c] & (z[c] > 0)
            assert hot[planted_hot].mean() >= 0.95, (place["id"], hot[planted_hot].mean())
            if place["behaviour"] in ("new", "consecutive"):
                assert not hot[~planted_hot].any()
            assert z[c][planted_hot].min() > 3


def test_emerging_hotspot_classes_match_the_truth(demo, scope):
    i0, j0, mask = scope
    for place in demo.truth["places"]:
        z, sig = gi_star(cube(demo, place["category"], scope), mask, lag=1)
        for loc in locations(place):
            c = (slice(None), loc["cell"]["j"] - j0, loc["cell"]["i"] - i0)
            assert emerging_class(z[c], sig[c]) == loc["expected_emerging_class"], place["id"]


# ------------------------------------------------------------------ rhythms


def local(occ: pd.DataFrame, category: str) -> pd.Series:
    return occ.loc[occ["category"] == category, "occurred_at"]


def test_rodeos_in_the_evening_at_weekends_and_in_summer(demo):
    at = local(demo.occurrences, "rodeos")
    assert at.dt.hour.between(18, 23).mean() > 0.6
    assert at.dt.day_of_week.isin([5, 6]).mean() > 0.4
    assert at.dt.month.between(4, 9).mean() > 0.6


def test_school_harassment_on_school_days_only(demo):
    at = local(demo.occurrences, "harcelement_scolaire")
    days = at.dt.date
    assert (at.dt.day_of_week < 5).all()
    assert not days.map(synthetic.is_public_holiday).any()
    assert at.dt.hour.between(7, 17).all()
    assert (at[at.dt.day_of_week == 2].dt.hour < 12).all()
    assert (~days.map(synthetic.is_school_holiday)).mean() > 0.9


def test_other_rhythms(demo):
    occ = demo.occurrences
    alcohol = local(occ, "alcoolisation")
    assert alcohol.dt.day_of_week.isin([3, 4, 5]).mean() > 0.55
    assert ((alcohol.dt.hour >= 18) | (alcohol.dt.hour < 3)).mean() > 0.6
    drugs = local(occ, "stupefiants")
    assert drugs.dt.hour.between(14, 23).mean() > 0.6
    assert drugs.dt.day_of_week.value_counts(normalize=True).min() > 0.1
    parking = local(occ, "stationnement")
    assert parking.dt.hour.between(7, 19).mean() > 0.85
    assert parking.dt.day_of_week.value_counts().idxmax() == 5  # market day
    buses = local(occ, "transports")
    assert buses.dt.hour.isin([7, 8, 16, 17, 18]).mean() > 0.45
    halls = occ.loc[occ["problem_external_id"] == next(
        p["problem_external_ids"][0] for p in demo.truth["places"] if p["id"] == "PL10"), "occurred_at"]
    assert ((halls.dt.hour >= 21) | (halls.dt.hour < 4)).mean() > 0.7


# ------------------------------------------------------------------ where the background lies


def test_background_follows_population_and_town_centres(demo, communes, sectors):
    bg = demo.occurrences[demo.occurrences["problem_external_id"].isna()]
    communes = communes.to_crs(2154)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(bg["x"], bg["y"]), crs=2154)
    joined = gpd.sjoin(points, communes[["insee", "population", "geometry"]], predicate="within")
    per = joined.groupby("insee").size()
    assert per.idxmax() == "90010"  # Belfort
    assert per["90010"] / len(bg) > 0.4

    union = shapely.union_all(sectors.to_crs(2154).geometry.values)
    outside = ~shapely.contains_xy(union, bg["x"], bg["y"])
    assert 0.005 < outside.mean() < 0.05

    in_csp = communes[communes.within(union.buffer(1))].set_index("insee")
    assert spearman(in_csp["population"], per.reindex(in_csp.index, fill_value=0)) > 0.7

    hall = gpd.GeoSeries(gpd.points_from_xy([6.86283], [47.638586]), crs=4326).to_crs(2154).iloc[0]
    d = np.hypot(bg["x"] - hall.x, bg["y"] - hall.y)
    near = (d < 1000).sum() / (math.pi * 1.0)
    ring = ((d >= 1000) & (d < 3000)).sum() / (math.pi * (9.0 - 1.0))
    assert near > 2 * ring


# ------------------------------------------------------------------ refusals


def test_too_few_weeks_refused(communes, sectors):
    with pytest.raises(ValueError, match="20 weekly steps"):
        generate(communes, sectors, weeks=10)


def test_sectors_elsewhere_refused(communes, sectors):
    elsewhere = sectors.to_crs(2154)
    elsewhere["geometry"] = elsewhere.geometry.translate(50_000, 0)
    with pytest.raises(ValueError, match="sectors"):
        generate(communes, elsewhere)
