"""The assessment of an action (DESIGN.md section 5): GE, NE, WDQ, TNE by hand, each reading, each zero count, the
six counts of PostGIS over local days, the default areas, storing, and a null case that must not read as a fall."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from shapely.ops import polylabel

from geo.analysis.scopes import sectors_on_day
from geo.gpo.assessment import (
    AssessmentError,
    Counts,
    assess,
    default_control,
    default_ring,
    last_assessments,
    measures,
    save_assessment,
    to_json,
)
from geo.gpo.groups import add_gpo

PARIS = ZoneInfo("Europe/Paris")
SOURCE = "test-evaluation"
# A place near Belfort in Lambert-93: R is a 100 m square, C a square kilometre 1 km east of it.
X0, Y0 = 990_000.0, 6_735_000.0
AREA = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
CONTROL = shapely.box(X0 + 1_000, Y0, X0 + 2_000, Y0 + 1_000)
ACTION_ON, DAYS = dt.date(2026, 3, 25), 10  # before: 15-24 March (winter time); after: 25 March-3 April (summer)
LATER = dt.date(2026, 12, 1)


# -- the measures by hand ---------------------------------------------------------------------------------
def test_displacement_with_net_gain_by_hand():
    m = measures(Counts(rb=40, ra=20, db=30, da=45, cb=400, ca=500))
    assert m.ge == 40 - 20 == 20
    assert m.ne == pytest.approx(40 / 400 - 20 / 500) == 0.10 - 0.04  # 0.06
    # (Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb) = (0.09 - 0.075) / (0.04 - 0.10) = 0.015 / -0.06
    assert m.wdq == pytest.approx(-0.25)
    # Ca/Cb = 1.25: [40 x 1.25 - 20] + [30 x 1.25 - 45] = 30 - 7.5
    assert m.tne == pytest.approx(22.5)
    assert m.fall and m.notes == ()
    assert "Déplacement avec gain net" in m.reading and "(WDQ = -0,25)" in m.reading
    assert "soit 20 faits de moins (effet brut, GE = 20)" in m.reading
    assert "22,5 faits de moins dans la zone et sa couronne" in m.reading and "NE = 0,060" in m.reading


def test_diffusion_of_benefits_by_hand():
    m = measures(Counts(rb=100, ra=50, db=80, da=60, cb=1000, ca=1000))
    assert m.ge == 50
    assert m.ne == pytest.approx(0.05)  # 0.10 - 0.05
    assert m.wdq == pytest.approx(0.4)  # (0.06 - 0.08) / (0.05 - 0.10) = -0.02 / -0.05
    assert m.tne == pytest.approx(70)  # [100 - 50] + [80 - 60]
    assert "Diffusion des bénéfices : la couronne a baissé aussi (WDQ = 0,40)." in m.reading
    assert "70 faits de moins" in m.reading


def test_displacement_cancelling_the_gain_by_hand():
    m = measures(Counts(rb=100, ra=50, db=80, da=160, cb=1000, ca=1000))
    assert m.wdq == pytest.approx(-1.6)  # (0.16 - 0.08) / (0.05 - 0.10) = 0.08 / -0.05
    assert m.tne == pytest.approx(-30)  # [100 - 50] + [80 - 160]
    assert "Déplacement qui annule le gain" in m.reading and "30 faits de plus" in m.reading


def test_wdq_of_exactly_minus_one_is_still_a_net_gain_and_of_zero_no_displacement():
    # (55/500 - 20/400) / (20/500 - 40/400) = (0.11 - 0.05) / -0.06 = -1, exactly (fractions, not floats)
    assert measures(Counts(rb=40, ra=20, db=20, da=55, cb=400, ca=500)).wdq == -1.0
    assert "Déplacement avec gain net" in measures(Counts(rb=40, ra=20, db=20, da=55, cb=400, ca=500)).reading
    # Da/Ca = Db/Cb = 0.08: the ring followed the control area
    zero = measures(Counts(rb=100, ra=50, db=80, da=80, cb=1000, ca=1000))
    assert zero.wdq == 0 and "Pas de déplacement" in zero.reading and "(WDQ = 0)" in zero.reading


def test_no_relative_fall_gives_wdq_but_does_not_read_it():
    m = measures(Counts(rb=50, ra=100, db=80, da=40, cb=1000, ca=1000))
    assert m.ge == -50 and m.ne == pytest.approx(-0.05)  # 0.05 - 0.10
    assert m.wdq == pytest.approx(-0.8)  # (0.04 - 0.08) / (0.10 - 0.05)
    assert not m.fall
    assert "le déplacement ne se lit donc pas (WDQ = -0,80, pour mémoire)" in m.reading
    assert "ne montre pas de baisse relative" in m.reading
    assert "Diffusion" not in m.reading and "Déplacement" not in m.reading
    assert "50 faits de plus (effet brut, GE = -50)" in m.reading


def test_a_fall_within_chance_is_not_claimed():
    m = measures(Counts(rb=4, ra=3, db=2, da=2, cb=10, ca=12))
    assert m.ne == pytest.approx(4 / 10 - 3 / 12) and m.p_value > 0.5 and not m.fall
    assert "pas plus que le hasard ne le ferait" in m.reading and "Déplacement" not in m.reading


@pytest.mark.parametrize("counts, undefined, note", [
    (Counts(4, 3, 2, 2, 0, 12), ("ne", "wdq", "tne"),
     "Aucun fait dans la zone témoin avant l'action (Cb = 0) : NE, WDQ et TNE ne se calculent pas."),
    (Counts(4, 3, 2, 2, 10, 0), ("ne", "wdq"),
     "Aucun fait dans la zone témoin après l'action (Ca = 0) : NE et WDQ ne se calculent pas."),
    (Counts(4, 3, 2, 2, 0, 0), ("ne", "wdq", "tne"),
     "Aucun fait dans la zone témoin, ni avant ni après l'action (Cb = Ca = 0) : NE, WDQ et TNE ne se calculent pas."),
    (Counts(10, 12, 2, 5, 100, 120), ("wdq",),
     "La zone a évolué exactement comme la zone témoin (Ra/Ca = Rb/Cb) : WDQ ne se calcule pas."),
    (Counts(0, 0, 2, 5, 100, 120), ("wdq",),
     "Aucun fait dans la zone, ni avant ni après l'action (Rb = Ra = 0) : WDQ ne se calcule pas."),
])
def test_zero_counts_give_no_ratio_and_say_which(counts, undefined, note):
    m = measures(counts)  # never a ZeroDivisionError
    assert all(getattr(m, name) is None for name in undefined)
    assert all(getattr(m, name) is not None for name in {"ne", "wdq", "tne"} - set(undefined))
    assert m.notes == (note,) and m.ge == counts.rb - counts.ra and not m.fall


def test_the_defined_measures_of_zero_counts_by_hand():
    assert measures(Counts(4, 3, 2, 2, 10, 0)).tne == pytest.approx(-5)  # Ca/Cb = 0: [4 x 0 - 3] + [2 x 0 - 2]
    same = measures(Counts(10, 12, 2, 5, 100, 120))
    assert same.ne == 0  # 10/100 - 12/120
    assert same.tne == pytest.approx(-2.6)  # Ca/Cb = 1.2: [10 x 1.2 - 12] + [2 x 1.2 - 5] = 0 + (2.4 - 5)


def test_without_a_ring_wdq_is_not_computed():
    m = measures(Counts(40, 20, 0, 0, 400, 500), with_ring=False)
    assert m.wdq is None and m.tne == pytest.approx(30)  # 40 x 1.25 - 20
    assert m.notes == ("Pas de couronne (0 m) : le déplacement (WDQ) ne se mesure pas, TNE ne compte que la zone.",)


def test_to_json_has_exactly_the_eleven_keys():
    counts = Counts(4, 3, 2, 2, 0, 12)

    class Stub:
        pass

    stub = Stub()
    stub.counts, stub.measures = counts, measures(counts)
    assert to_json(stub) == {"Rb": 4, "Ra": 3, "Db": 2, "Da": 2, "Cb": 0, "Ca": 12, "GE": 1, "NE": None, "WDQ": None,
                             "TNE": None, "reading": stub.measures.reading}


def test_on_null_counts_a_fall_is_claimed_at_most_as_often_as_the_test_allows():
    """Same rates before and after in R, D and C, sparse to dense: a fall is claimed in at most 5 % of draws."""
    rng = np.random.default_rng(15)
    claimed = lower = draws = 0
    for r, d, c in ((3, 6, 30), (15, 30, 150), (60, 100, 600)):
        for rb, ra, db, da, cb, ca in rng.poisson([r, r, d, d, c, c], size=(400, 6)):
            m = measures(Counts(*map(int, (rb, ra, db, da, cb, ca))))
            draws += 1
            claimed += m.fall
            lower += (m.ne or 0) > 0
            if not m.fall:
                assert "Diffusion" not in m.reading and "Déplacement" not in m.reading
    assert claimed / draws <= 0.05
    assert lower / draws > 0.4  # reading the sign of NE alone would claim a fall in about half of them


# -- the areas --------------------------------------------------------------------------------------------
def test_the_ring_is_the_buffer_minus_the_area():
    ring = default_ring(AREA, 200)
    assert ring.geom_type == "MultiPolygon" and not ring.intersection(AREA).area
    assert ring.area == pytest.approx(AREA.buffer(200).area - AREA.area)
    assert default_ring(AREA, 0).is_empty


# -- the counts in PostGIS ------------------------------------------------------------------------------------
def _plant(engine, points) -> None:
    """Occurrences ``[(x, y, local time 'YYYY-MM-DD HH:MM', category), ...]`` of the test's source."""
    rows = [{"id": f"{SOURCE}-{n}", "x": x, "y": y, "cat": cat,
             "at": dt.datetime.fromisoformat(at).replace(tzinfo=PARIS)} for n, (x, y, at, cat) in enumerate(points)]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom) "
                             "VALUES (:s, :id, :cat, :at, ST_SetSRID(ST_MakePoint(:x, :y), 2154))"),
                     [{"s": SOURCE, **r} for r in rows])


R, D, C, FAR = (X0 + 50, Y0 + 50), (X0 + 50, Y0 + 200), (X0 + 1_500, Y0 + 500), (X0 + 50_000, Y0)
EDGE = (X0 + 50, Y0 + 100)  # on R's edge, which is also the ring's: counted in R only


def test_the_six_counts_over_local_days(engine):
    s, other = "stupefiants", "rodeos"
    _plant(engine, [
        (*R, "2026-03-14 23:59", s),  # the day before the period before: out
        (*R, "2026-03-15 00:00", s),  # its first instant: before
        (*R, "2026-03-24 23:30", s),  # 23:30 the evening before the action: before
        (*R, "2026-03-25 00:30", s),  # 23:30 UTC on the 24th, but the 25th in Paris: after
        (*R, "2026-04-03 23:59", s),  # the last minute of the period after (summer time): after
        (*R, "2026-04-04 00:00", s),  # 22:00 UTC on the 3rd, the 4th in Paris: out
        (*EDGE, "2026-03-30 12:00", s),  # after, in R and not in D
        (*R, "2026-03-20 12:00", other),  # another category
        (*D, "2026-03-16 08:00", s), *[(*D, f"2026-03-2{n} 08:00", s) for n in (6, 7, 8)],
        *[(*C, f"2026-03-1{n} 10:00", s) for n in (6, 7, 8, 9)],
        *[(*C, f"2026-03-2{n} 10:00", s) for n in range(5, 10)],
        (*FAR, "2026-03-20 12:00", s),  # in no area
    ])
    result = assess(engine, AREA, ACTION_ON, days=DAYS, buffer_m=200, control=CONTROL, category="Stupéfiants",
                    today=LATER)
    assert result.counts == Counts(rb=2, ra=3, db=1, da=3, cb=4, ca=5)
    assert result.category == "stupefiants" and result.notes == ()
    assert result.before == (dt.date(2026, 3, 15), dt.date(2026, 3, 24))
    assert result.after == (dt.date(2026, 3, 25), dt.date(2026, 4, 3))
    every = assess(engine, AREA, ACTION_ON, days=DAYS, buffer_m=200, control=CONTROL, today=LATER)
    assert every.counts == Counts(rb=3, ra=3, db=1, da=3, cb=4, ca=5)
    # GE = 3 - 3; NE = 3/4 - 3/5 = 0.15; TNE = [3 x 5/4 - 3] + [1 x 5/4 - 3] = 0.75 - 1.75 = -1
    assert (every.measures.ge, every.measures.ne, every.measures.tne) == (0, pytest.approx(0.15), pytest.approx(-1))


def test_an_unfinished_period_and_an_overlapping_control_are_noted(engine):
    result = assess(engine, AREA, ACTION_ON, days=DAYS, control=AREA.buffer(1_000), today=dt.date(2026, 3, 30))
    assert result.notes[:2] == (
        "La zone témoin donnée recouvrait la zone évaluée ou sa couronne : cette partie en est retirée.",
        "La période après n'est pas encore écoulée : 5 jours sur 10.")
    assert result.control.intersection(AREA.buffer(200)).area == pytest.approx(0, abs=1e-3)
    assert result.counts == Counts(0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"days": 0}, "La durée de chaque période doit être de 1 à 730 jours, pas 0."),
    ({"days": 731}, "La durée de chaque période doit être de 1 à 730 jours, pas 731."),
    ({"buffer_m": -1}, "La couronne doit mesurer de 0 à 5\u202f000 m, pas -1."),
    ({"buffer_m": 5001}, "La couronne doit mesurer de 0 à 5\u202f000 m, pas 5001."),
    ({"category": "vol à l'étalage"}, "Catégorie inconnue : « vol à l'étalage »"),
    ({"area": shapely.Polygon()}, "La zone évaluée est vide : dessinez un polygone."),
    ({"area": shapely.Point(X0, Y0)}, "La zone évaluée doit être un polygone, pas un Point."),
    ({"area": shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])}, "La zone évaluée n'est pas un polygone valide"),
    ({"action_on": dt.date(1990, 1, 5)}, "La date de l'action 05/01/1990 est hors du calendrier accepté"),
])
def test_bad_parameters_are_refused_in_one_french_sentence(engine, kwargs, message):
    arguments = {"area": AREA, "action_on": ACTION_ON, **kwargs}
    with pytest.raises(AssessmentError) as refused:
        assess(engine, arguments.pop("area"), arguments.pop("action_on"), control=CONTROL, **arguments)
    assert str(refused.value).startswith(message) and refused.value.status == 400


def test_on_uniform_random_occurrences_no_fall_is_read(engine):
    """Occurrences uniform in R, D and C at the same rate before and after: counted exactly, no fall read."""
    rng = np.random.default_rng(2026)
    ring = default_ring(AREA, 200)
    expected, points = {}, []
    for name, region, mean in (("r", AREA, 25), ("d", ring, 60), ("c", CONTROL, 300)):
        for period, days in (("b", range(15, 25)), ("a", range(25, 35))):
            n = int(rng.poisson(mean))
            expected[name + period] = n
            for x, y in _uniform(rng, region, n):
                day = ACTION_ON + dt.timedelta(days=int(rng.choice(days)) - 25)
                points.append((x, y, f"{day} {rng.integers(24):02d}:{rng.integers(60):02d}", "stupefiants"))
    _plant(engine, points)
    result = assess(engine, AREA, ACTION_ON, days=DAYS, control=CONTROL, today=LATER)
    assert result.counts == Counts(**expected)
    c, m = result.counts, result.measures
    noise = np.sqrt(c.rb / c.cb**2 + c.ra / c.ca**2)  # the Poisson standard error of NE
    assert abs(m.ne) < 3 * noise and not m.fall
    assert "ne montre pas de baisse" in m.reading
    assert "Diffusion" not in m.reading and "Déplacement" not in m.reading


def _uniform(rng, region, n):
    """``n`` points uniform in ``region`` (rejection in its bounds)."""
    xmin, ymin, xmax, ymax = region.bounds
    found = []
    while len(found) < n:
        x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        if region.contains(shapely.Point(x, y)):
            found.append((x, y))
    return found


# -- the default control area and storing (the demo's territory) ------------------------------------------------
def test_the_default_control_is_the_sector_outside_r_and_d_and_assessments_are_kept(engine, territory):
    sector = next(s for s in sectors_on_day(engine, ACTION_ON) if s.code == "BEL-CENTRE")
    centre = polylabel(max(sector.geometry.geoms, key=lambda g: g.area), 1)
    area = shapely.box(centre.x - 50, centre.y - 50, centre.x + 50, centre.y + 50)
    ring = default_ring(area, 200)
    assert sector.geometry.contains(area.buffer(200))
    control = default_control(engine, area, ring, ACTION_ON)
    assert control.symmetric_difference(sector.geometry.difference(area.buffer(200))).area < 1
    _plant(engine, [(centre.x, centre.y, "2026-03-20 10:00", "rodeos"),
                    (*shapely.Point(control.representative_point()).coords[0], "2026-03-26 10:00", "rodeos")])
    result = assess(engine, area, ACTION_ON, days=DAYS, today=LATER)
    assert result.counts == Counts(rb=1, ra=0, db=0, da=0, cb=0, ca=1) and result.control.equals(control)

    gpo_id = add_gpo(engine, csp_id=territory, name="GPO Centre évaluation", sector_codes=["BEL-CENTRE"],
                     rhythm="mensuel", first_meeting_on=dt.date(2026, 1, 10))
    first = save_assessment(engine, result, gpo_id=gpo_id, label="Place d'Armes")
    second = save_assessment(engine, assess(engine, area, ACTION_ON, days=DAYS, buffer_m=0, category="rodeos",
                                            today=LATER), gpo_id=gpo_id)
    kept = last_assessments(engine, gpo_id)
    assert [k.id for k in kept] == [second, first]
    assert kept[1].label == "Place d'Armes" and kept[1].counts == result.counts and kept[1].reading == result.reading
    assert kept[1].area.equals(area) and kept[1].ring.equals(result.ring) and kept[1].control.equals(control)
    assert kept[0].ring.is_empty and kept[0].measures.wdq is None and kept[0].category == "rodeos"
    assert to_json(kept[1]) == to_json(result) and last_assessments(engine, gpo_id, limit=1)[0].id == second


def test_an_area_in_no_sector_has_no_default_control(engine, territory):
    result = assess(engine, shapely.box(0, 0, 100, 100), ACTION_ON, days=DAYS, today=LATER)
    assert result.control.is_empty
    assert result.notes[0] == ("La zone ne recouvre aucun secteur en vigueur le 25/03/2026 : pas de zone témoin par "
                               "défaut ; donnez-en une.")
    assert result.measures.ne is None
