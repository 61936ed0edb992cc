"""Property tests of every endpoint that takes parameters, path segments or JSON (issue 14).

The routes come from the URL map (tests/fixtures/routes.py), so that a new endpoint is
covered as soon as it is added. Asked by an admin, a chief and a mayor with random and
hostile query strings (dates at the ends of the calendar, boxes of NaN, huge numbers,
NUL, percent-encoded lone surrogates), random path segments and, for the zone API,
random JSON bodies (geometries of any shape, NaN and Infinity tokens, nesting, wrong
types, long lists within the body limit): the answer is never a 5xx; a refusal under
``/api/`` is JSON with an ``error`` sentence in French, a refused page is HTML; a refused
write changes neither the zones nor the audit log. The hand-found cases are in
tests/web/test_hostile_input.py; the ones these properties found are at the end.
"""

from __future__ import annotations

import json
import re
import string
from urllib.parse import quote_from_bytes

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug import exceptions as http

from tests.fixtures.accounts import CHIEF, account, client_as, csrf_token_in
from tests.fixtures.routes import SAMPLE_ARGS

# No shrinking: each example is a request to the app and its database; the failing one is small already.
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
INSIDE = (6.854562, 47.638999)  # BEL-CENTRE
WRITTEN = ("patrol_zone", "patrol_zone_problem", "audit_log")
#: What werkzeug says in English when a view gives no French sentence.
ENGLISH = {cls.description for cls in vars(http).values() if isinstance(cls, type) and
           issubclass(cls, http.HTTPException) and cls.description}
ENGLISH_WORDS = re.compile(r"\b(the|is|not|was|you|your|request|server|browser|error|found|invalid)\b", re.I)


def square(lon=INSIDE[0], lat=INSIDE[1], half=0.001):
    return {"type": "Polygon", "coordinates": [[[lon - half, lat - half], [lon + half, lat - half],
                                                [lon + half, lat + half], [lon - half, lat + half],
                                                [lon - half, lat - half]]]}


@pytest.fixture
def users(app, engine, territory, login):
    """An admin, the chief of BEL-CENTRE and BEL-GLACIS, the mayor of Belfort (90010), each with his CSRF
    token; and one zone of the chief's, to edit."""
    clients = {
        "admin": client_as(app, login, *account(engine, "admin.prop@psq.test", "admin")),
        "chief": client_as(app, login, *account(engine, CHIEF[0], "chef_secteur", CHIEF[1],
                                                sectors=["BEL-CENTRE", "BEL-GLACIS"])),
        "mayor": client_as(app, login, *account(engine, "maire.prop@psq.test", "maire", commune="90010")),
    }
    for client in clients.values():
        client.token = csrf_token_in(client.get("/page-absente").text)
    made = clients["chief"].post("/api/zones", json={"csp_id": territory, "sector_code": "BEL-CENTRE",
                                                     "geometry": square(), "reason": "Parvis"},
                                 headers={"X-CSRFToken": clients["chief"].token})
    assert made.status_code == 201, made.text
    clients["zone_id"], clients["csp_id"] = made.json["id"], territory
    return clients


def written(engine) -> dict[str, tuple]:
    """Count and digest of the zone and audit tables."""
    with engine.connect() as conn:
        return {t: tuple(conn.execute(sa.text(
            f"SELECT count(*), md5(coalesce(string_agg(md5(x::text), ',' ORDER BY md5(x::text)), '')) FROM {t} x"
        )).one()) for t in WRITTEN}


def check_answer(answer, url: str, asked: list[str] = ()) -> None:
    """Never a 5xx; a refusal is one French sentence, as JSON under /api/, else as an HTML page."""
    status = answer.status_code
    assert status < 500, (url, status, answer.get_data(as_text=True)[:500])
    if status < 400:
        return
    path = url.split("?", 1)[0]
    if path.startswith("/api/"):
        assert answer.is_json, (url, status, answer.content_type)
        error = answer.json.get("error")
        assert isinstance(error, str) and error.strip(), (url, answer.json)
        assert_french(error, url, asked)
    else:
        assert answer.mimetype == "text/html", (url, status, answer.content_type)
        assert "<html" in answer.get_data(as_text=True).lower(), url


def assert_french(sentence: str, url: str, asked: list[str]) -> None:
    assert sentence not in ENGLISH, (url, sentence)
    words = re.sub(r"«[^»]*»", "", sentence)  # what the user wrote, quoted, is his
    for text in sorted(asked, key=len, reverse=True):
        if text:
            words = words.replace(text, "")
    assert not ENGLISH_WORDS.search(words), (url, sentence)


# -- strategies -------------------------------------------------------------------------------------
HOSTILE = st.text(st.characters(codec=None, categories=None, exclude_categories=()), max_size=20)
DAYS = st.one_of(st.dates().map(lambda d: d.isoformat()), st.dates().map(lambda d: d.strftime("%Y-%m")),
                 st.sampled_from(["0001-01-01", "9999-12-31", "0000-00-00", "2024-02-30", "2024-13", "0001-01",
                                  "9999-12", "2024-05-04T22:15", "+002024-01-01", "2024-W01", "20240101", "-1",
                                  "2024-05-04\x00", "1e308", ""]))
NUMBER = st.one_of(st.integers(-(2**70), 2**70).map(str), st.floats().map(repr),
                   st.sampled_from(["nan", "inf", "-inf", "1e308", "9" * 400, "0x10", "", "-0", "٤"]))
BBOX = st.one_of(st.lists(NUMBER, min_size=0, max_size=6).map(",".join),
                 st.tuples(st.floats(-200, 200), st.floats(-100, 100), st.floats(-200, 200), st.floats(-100, 100))
                 .map(lambda b: ",".join(map(repr, b))), st.just("6.8,47.6,6.9,47.7"), st.just("-180,-90,180,90"))
CATEGORY = st.one_of(st.sampled_from(["rodeos", "Rodéos", "stupefiants", "", "vol", "rodeos\x00"]), HOSTILE)
VALUES = {"du": DAYS, "au": DAYS, "date": DAYS, "bbox": BBOX, "categorie": CATEGORY, "jours": NUMBER,
          "csp": st.one_of(st.just("CSP Belfort"), HOSTILE), "next": st.one_of(st.just("//evil.example"), HOSTILE)}


def encoded(text: str) -> str:
    """Percent-encoded UTF-8, lone surrogates kept as the (invalid) bytes a hostile client sends."""
    return quote_from_bytes(text.encode("utf-8", errors="surrogatepass"), safe="")


@st.composite
def query_strings(draw) -> tuple[str, list[str]]:
    keys = draw(st.lists(st.one_of(st.sampled_from(list(VALUES)), HOSTILE), max_size=5))
    pairs = [(key, draw(VALUES.get(key, HOSTILE))) for key in keys]
    query = "&".join(f"{encoded(k)}={encoded(v)}" for k, v in pairs)
    if draw(st.integers(0, 9)) == 0:  # raw, undecodable bytes
        query += "&" + draw(st.binary(max_size=20)).hex("%", 1).join(["%", ""])
    return query, [text for pair in pairs for text in pair]


SEGMENT = st.one_of(HOSTILE, st.sampled_from(["CSP Belfort", "BEL-CENTRE", "90010", "..", ".", "%", "a/b", "\x00"]),
                    st.integers(-(2**70), 2**70).map(str), st.text(string.ascii_letters, min_size=200, max_size=2000))


def path_rules(app) -> list:
    """Every rule of the URL map but the static files and the login pages (as tests/fixtures/routes.py)."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and not rule.endpoint.startswith("auth.")]


@st.composite
def paths(draw, rules) -> tuple[object, str, list[str]]:
    rule = draw(st.sampled_from(rules))
    asked = []

    def segment(match):
        name = match.group(2)
        if draw(st.booleans()):
            return encoded(str(SAMPLE_ARGS[name]))
        is_int = match.group(1) == "int:"
        value = draw(st.integers(-(2**70), 2**70).map(str) if is_int and draw(st.booleans()) else SEGMENT)
        asked.append(value)
        return encoded(value)

    return rule, re.sub(r"<(\w+:)?(\w+)>", segment, rule.rule), asked


ROLES = st.sampled_from(["admin", "chief", "mayor"])


# -- GET: every page and endpoint, random path segments and query strings ----------------------------
@PROPERTY
@given(data=st.data())
def test_every_get_route_with_any_path_and_query(app, engine, users, data):
    rules = [r for r in path_rules(app) if "GET" in r.methods]
    rule, path, asked = data.draw(paths(rules))
    query, more = data.draw(query_strings())
    role = data.draw(ROLES)
    url = f"{path}?{query}" if query else path
    before = written(engine)
    answer = users[role].get(url)
    check_answer(answer, url, asked + more)
    if answer.status_code >= 400:
        assert written(engine) == before, url


@settings(PROPERTY, max_examples=80)
@given(query=query_strings(), role=ROLES,
       endpoint=st.sampled_from(["/api/secteurs/CSP%20Belfort/BEL-CENTRE/cellules",
                                 "/api/secteurs/CSP%20Belfort/BEL-CENTRE/tuiles/14/8503/5719.mvt",
                                 "/api/communes/90010/cellules",
                                 "/api/secteurs/CSP%20Belfort/BEL-CENTRE/zones.geojson"]))
def test_the_json_endpoints_with_any_query(engine, users, query, role, endpoint):
    """The endpoints the map scripts call, on a sector or commune the user may see (or not): the query is read."""
    query, asked = query
    url = f"{endpoint}?{query}"
    check_answer(users[role].get(url), url, asked)


# -- POST: the zone API with any body ----------------------------------------------------------------
FLOATS = st.one_of(st.floats(6.85, 6.86), st.floats(47.63, 47.64), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([1e308, -1e308, 181.0, 91.0]))
JSON_ANY = st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | FLOATS | HOSTILE,
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE, inner, max_size=3),
                        max_leaves=15)


@st.composite
def zone_geometries(draw):
    kind = draw(st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "Feature", "GeometryCollection",
                                 "Polygone", None]))
    form = draw(st.sampled_from(["good", "moved", "random", "nested", "many"]))
    lon, lat = draw(st.floats(6.84, 6.87)), draw(st.floats(47.62, 47.65))
    polygon = square(lon, lat, draw(st.sampled_from([0.0001, 0.001, 0.01, 1.0])))
    if form == "good":
        coordinates = polygon["coordinates"]
    elif form == "moved":
        coordinates = [[[draw(FLOATS), draw(FLOATS)] for _ in range(draw(st.integers(0, 6)))]]
    elif form == "nested":
        coordinates = [lon, lat]
        for _ in range(draw(st.integers(2, 30))):
            coordinates = [coordinates]
    elif form == "many":
        count = draw(st.integers(3, 40_000))
        coordinates = [[[lon + 1e-7 * k, lat + 1e-9 * k * k] for k in range(count)] + [[lon, lat]]]
    else:
        coordinates = draw(JSON_ANY)
    if kind == "MultiPolygon" and form == "good":
        coordinates = [coordinates]
    if kind == "Feature":
        return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": coordinates}}
    return {"type": kind, "coordinates": coordinates} if draw(st.integers(0, 7)) else draw(JSON_ANY)


def zone_fields(csp_id: int):
    anything = st.one_of(JSON_ANY, FLOATS, st.integers(-(2**70), 2**70))
    return st.fixed_dictionaries({}, optional={
        "csp_id": st.one_of(st.just(csp_id), st.just(str(csp_id)), anything),
        "sector_code": st.one_of(st.sampled_from(["BEL-CENTRE", "BEL-GLACIS", "AGG-NORD", ""]), anything),
        "geometry": zone_geometries(),
        "reason": st.one_of(st.just("Parvis de la gare"), HOSTILE, st.just("x" * 2001), anything),
        "valid_from": st.one_of(DAYS, anything), "valid_to": st.one_of(DAYS, anything),
        "time_slots": st.one_of(st.sampled_from(["ven-sam 20:00-02:00", "lun 25:00-26:00", ""]),
                                st.lists(st.one_of(HOSTILE, st.just("lun-ven 16:00-19:00")), max_size=60), anything),
        "problem_ids": st.one_of(st.lists(st.one_of(st.integers(-(2**70), 2**70), FLOATS, HOSTILE), max_size=5),
                                 anything),
        "category": st.one_of(CATEGORY, anything),
    })


@st.composite
def bodies(draw, csp_id: int) -> bytes:
    form = draw(st.sampled_from(["fields", "fields", "fields", "any", "deep", "raw", "long list"]))
    if form == "fields":
        document = draw(zone_fields(csp_id))
        if draw(st.booleans()):  # the always-valid core, so that the other fields get checked
            document = {"csp_id": csp_id, "sector_code": "BEL-CENTRE", "geometry": square(), "reason": "Parvis",
                        **document}
    elif form == "any":
        document = draw(JSON_ANY)
    elif form == "deep":
        depth = draw(st.integers(15, 200_000))
        return ('{"reason": ' + "[" * depth + "]" * depth + "}").encode()
    elif form == "raw":
        return draw(st.binary(max_size=300))
    else:  # a list as long as the body limit allows (2 MB)
        document = {"csp_id": csp_id, "sector_code": "BEL-CENTRE", "geometry": square(), "reason": "Parvis",
                    draw(st.sampled_from(["problem_ids", "time_slots", "reason"])): [1] * draw(st.integers(0, 690_000))}
    text = json.dumps(document, allow_nan=True)  # NaN, Infinity and -Infinity tokens
    return text.encode("utf-8", errors="surrogatepass")


@PROPERTY
@given(data=st.data())
def test_the_zone_api_with_any_body(engine, users, data):
    role = data.draw(ROLES)
    zone = data.draw(st.one_of(st.just(users["zone_id"]), st.integers(-(2**40), 2**40)))
    url = data.draw(st.sampled_from(["/api/zones", f"/api/zones/{zone}", f"/api/zones/{zone}/supprimer"]))
    body = data.draw(bodies(users["csp_id"]))
    client = users[role]
    before = written(engine)
    answer = client.post(url, data=body, content_type=data.draw(st.sampled_from(
        ["application/json", "application/json", "text/plain", "application/x-www-form-urlencoded"])),
        headers={"X-CSRFToken": client.token})
    check_answer(answer, url, [])
    if answer.status_code >= 400:
        assert written(engine) == before, (url, answer.status_code, answer.json)


@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_every_post_route_without_its_token(app, engine, users, data):
    """Every POST of the URL map, any body, no CSRF token: refused, nothing written."""
    rules = [r for r in path_rules(app) if "POST" in r.methods]
    rule, path, asked = data.draw(paths(rules))
    before = written(engine)
    answer = users[data.draw(ROLES)].post(path, data=data.draw(bodies(users["csp_id"])),
                                          content_type="application/json")
    check_answer(answer, path, asked)
    assert answer.status_code >= 400 and written(engine) == before, (path, answer.status_code)


# -- regressions: what these properties found -------------------------------------------------------------
def test_nan_and_infinity_tokens_are_not_json(engine, users):
    """``{"csp_id": Infinity}`` was a 500 (``int(inf)``: OverflowError); NaN and Infinity are not JSON numbers."""
    before = written(engine)
    for token in ("Infinity", "-Infinity", "NaN"):
        for field, value in (("csp_id", token), ("reason", token), ("problem_ids", f"[{token}]"),
                             ("geometry", '{"type": "Polygon", "coordinates": [[[6.85, %s]]]}' % token)):
            body = '{"csp_id": %d, "sector_code": "BEL-CENTRE", "reason": "Parvis", "%s": %s}' % (
                users["csp_id"], field, value)
            for role in ("admin", "chief"):
                answer = users[role].post("/api/zones", data=body, content_type="application/json",
                                          headers={"X-CSRFToken": users[role].token})
                assert answer.status_code == 400, (body, answer.text)
                assert answer.json["error"] == (f"Le JSON contient {token}, qui n'est pas un nombre du JSON : "
                                                "donnez un nombre fini.")
    assert written(engine) == before
