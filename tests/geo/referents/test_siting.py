"""New camera sites by MCLP: optimal where greedy is not, existing coverage never counted again, one orientation per
site, the parameters' bounds and a bad candidate file refused in sentences."""

from __future__ import annotations

import numpy as np
import pytest

from geo.accounts.users import UserScope
from geo.referents.siting import BadCandidatesError, SitingError, propose_sites, read_candidates, solve_mclp
from tests.fixtures.cameras import DEMAND, SITES, X0, Y0, camera_file, camera_line, plant, site

ADMIN = UserScope("admin")


def test_mclp_finds_the_optimum_greedy_misses(engine, territory):
    plant(engine, DEMAND)
    one = propose_sites(engine, ADMIN, "90010", 1, candidates=SITES, range_m=60)
    assert (one.chosen, one.covered, one.gains) == (["Centre"], 8, [8])  # what greedy would take first
    two = propose_sites(engine, ADMIN, "90010", 2, candidates=SITES, range_m=60)
    assert sorted(two.chosen) == ["Left", "Right"]
    assert (two.covered, two.share, two.occurrences, two.already_covered) == (14, 1.0, 14, 0)
    assert two.gains == [7, 7] and sum(two.gains) == two.covered - two.already_covered
    [left] = [s for s in two.sites if s.id == "Left"]
    assert (left.lat, left.lon) == pytest.approx(SITES[0][1:], abs=1e-7) and left.x == pytest.approx(X0 - 60, abs=0.01)


def test_a_pool_too_small_is_not_taken_for_the_optimum(engine, territory, monkeypatch):
    """The MCLP runs on the candidates that alone cover the most; its choice is called exact only when proved optimal
    over every candidate, else the pool grows."""
    from geo.referents import siting

    plant(engine, DEMAND)
    monkeypatch.setattr(siting, "POOL_SIZE", 1)
    monkeypatch.setattr(siting, "MAX_POOL", 2)  # Centre and Left: the optimum Left + Right is out of reach
    short = propose_sites(engine, ADMIN, "90010", 2, candidates=SITES, range_m=60)
    assert (short.exact, short.pool, short.covered) == (False, 2, 11)
    monkeypatch.setattr(siting, "MAX_POOL", 4)  # the pool doubles to every candidate
    full = propose_sites(engine, ADMIN, "90010", 2, candidates=SITES, range_m=60)
    assert (full.exact, full.pool, sorted(full.chosen), full.covered) == (True, 3, ["Left", "Right"], 14)
    monkeypatch.setattr(siting, "MAX_POOL", 1)  # one camera: Centre alone (8) beats any other alone (7), proved
    one = propose_sites(engine, ADMIN, "90010", 1, candidates=SITES, range_m=60)
    assert (one.exact, one.pool, one.chosen) == (True, 1, ["Centre"])


def test_the_solver_on_a_matrix_is_optimal_where_greedy_is_not():
    # columns: Left, Centre, Right; rows a, b, c, d
    matrix = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]])
    assert sorted(solve_mclp(matrix, np.array([3, 4, 4, 3]), 2)) == [0, 2]
    assert solve_mclp(matrix, np.array([3, 4, 4, 3]), 1) == [1]


def test_existing_coverage_is_not_counted_again(engine, territory, tmp_path):
    plant(engine, DEMAND)
    from geo.referents.cameras import load_cameras

    load_cameras(engine, camera_file(tmp_path, camera_line("E1", 0, 0, 0, 360, 40)))  # sees b and c
    one = propose_sites(engine, ADMIN, "90010", 1, candidates=SITES, range_m=60)
    assert one.already_covered == 8 and one.chosen in (["Left"], ["Right"])
    assert (one.gains, one.covered) == ([3], 11)
    two = propose_sites(engine, ADMIN, "90010", 2, candidates=SITES, range_m=60)
    assert sorted(two.chosen) == ["Left", "Right"] and two.gains == [3, 3] and two.covered == 14
    assert sum(two.gains) == two.covered - two.already_covered
    # a third camera would gain nothing: it is not proposed
    three = propose_sites(engine, ADMIN, "90010", 3, candidates=SITES, range_m=60)
    assert sorted(three.chosen) == ["Left", "Right"] and three.covered == 14


def test_one_orientation_per_site(engine, territory):
    plant(engine, [(X0 - 40, Y0)] * 5 + [(X0 + 40, Y0)] * 3)  # west and east of a single site
    proposal = propose_sites(engine, ADMIN, "90010", 2, candidates=[site("S", 0, 0)], range_m=60, fov=90)
    # p is lowered to the one site; any orientation that sees the west (225 to 315, edges included) is optimal
    assert len(proposal.sites) == 1 and proposal.covered == 5 and proposal.chosen[0].startswith("S@")
    assert proposal.sites[0].bearing in (225, 270, 315)
    both = propose_sites(engine, ADMIN, "90010", 2, candidates=[site("S", 0, 0), site("T", 1, 0)], range_m=60,
                         fov=90)
    assert both.covered == 8 and sorted(c.split("@")[0] for c in both.chosen) == ["S", "T"]
    assert sorted(both.gains) == [3, 5]


def test_the_default_grid_covers_a_cluster(engine, territory):
    plant(engine, [(X0 + 7, Y0 + 3)] * 6 + [(X0 + 400, Y0 + 400)] * 2)
    proposal = propose_sites(engine, ADMIN, "90010", 1)
    assert proposal.chosen[0].startswith("G") and proposal.covered == 6 and proposal.share == 6 / 8
    [chosen] = proposal.sites
    assert np.hypot(chosen.x - X0 - 7, chosen.y - Y0 - 3) <= 60 and chosen.x % 50 == 0 and chosen.y % 50 == 0
    oriented = propose_sites(engine, ADMIN, "90010", 2, fov=120)
    assert all("@" in c for c in oriented.chosen) and oriented.covered == 8


@pytest.mark.parametrize("kwargs, sentence", [
    ({"p": 0}, "p 0: the number of new cameras must be from 1 to 20."),
    ({"p": 21}, "p 21: the number of new cameras must be from 1 to 20."),
    ({"range_m": 400}, "range 400: the range in metres must be from 5 to 300."),
    ({"fov": 0}, "fov 0: the field of view in degrees must be from 1 to 360."),
])
def test_parameters_out_of_bounds_are_refused(engine, territory, kwargs, sentence):
    p = kwargs.pop("p", 2)
    with pytest.raises(SitingError) as caught:
        propose_sites(engine, ADMIN, "90010", p, **kwargs)
    assert str(caught.value) == sentence and caught.value.user_message.startswith(("Le ", "La "))


def test_a_bad_candidate_file_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("id,lat,lon\nA,47.638,6.8628\nB,abc,6.86\nA,47.64,6.86\n,47.64,6.86\n")
    with pytest.raises(BadCandidatesError) as caught:
        read_candidates(path)
    assert caught.value.problems == ["sites.csv: 3 of 4 rows are bad; nothing was proposed.",
                                     "line 3: lat 'abc' is not a number.", "line 4: id 'A' already used on line 2.",
                                     "line 5: missing id."]
    good = tmp_path / "ok.csv"
    good.write_text("id;lat;lon\nA;47,638;6,8628\n")
    assert read_candidates(good) == [("A", 47.638, 6.8628)]
