"""Folium maps load only vendored assets (layers.offline, web/static/vendor).

No database and no network: the maps are built in memory and rendered to
HTML, and the vendored tree is read from disk.
"""

from __future__ import annotations

import copy
import re

import folium
import pytest
from folium.elements import JSCSSMixin
from folium.plugins import Draw, FastMarkerCluster, HeatMap, MarkerCluster

from layers.base_map import LocalBaseMap, PMTilesBaseMap
from layers.offline import VENDOR_DIR, VENDORED_ASSETS, UnvendoredAssetError, local_asset_paths, localize
from layers.zone_layers import FrenchDraw
from tests.support import ROOT

PREFIX = "/static/vendor/"

# Classes whose assets the app uses; their defaults must all be vendored.
# The classes the app renders: folium's, and Leaflet.draw in French (layers.zone_layers).
FOLIUM_CLASSES = (folium.Map, Draw, FrenchDraw, MarkerCluster, FastMarkerCluster, HeatMap, PMTilesBaseMap)

LINK_RE = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
CSS_URL_RE = re.compile(r"""url\(\s*(["']?)(.*?)\1\s*\)""")
CSS_IMPORT_RE = re.compile(r"@import\b", re.IGNORECASE)

SECTORS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Secteur A"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[2.33, 48.84], [2.37, 48.84], [2.37, 48.87], [2.33, 48.87], [2.33, 48.84]]
                ],
            },
        }
    ],
}


def _class_defaults() -> dict[str, list[tuple[str, str]]]:
    """Deep copy of the class-level asset lists of FOLIUM_CLASSES."""
    return {
        f"{cls.__name__}.{attr}": copy.deepcopy(getattr(cls, attr))
        for cls in FOLIUM_CLASSES
        for attr in ("default_js", "default_css")
    }


def build_map() -> folium.Map:
    """A map using every kind of element the app renders."""
    m = folium.Map(location=[48.855, 2.35], zoom_start=13, tiles=None, maxZoom=18)
    folium.GeoJson(
        SECTORS,
        name="secteurs",
        tooltip=folium.GeoJsonTooltip(["name"]),
        popup=folium.GeoJsonPopup(["name"]),
    ).add_to(m)
    cluster = MarkerCluster(name="faits").add_to(m)
    for i in range(4):
        folium.Marker([48.85 + i * 0.002, 2.35 + i * 0.002], popup=f"fait {i}").add_to(cluster)
    FastMarkerCluster([[48.86, 2.34], [48.861, 2.341]], name="rapide").add_to(m)
    HeatMap([[48.85, 2.35, 1.0], [48.852, 2.352, 0.5]], name="chaleur").add_to(m)
    FrenchDraw(export=True).add_to(m)
    PMTilesBaseMap(LocalBaseMap("/fond-de-carte.pmtiles")).add_to(m)
    folium.Marker([48.857, 2.36], icon=folium.Icon(color="red", icon="info-sign")).add_to(m)
    folium.Marker(
        [48.845, 2.36], icon=folium.Icon(color="green", icon="car", prefix="fa", angle=45)
    ).add_to(m)
    folium.LayerControl().add_to(m)
    return m


@pytest.fixture(scope="module")
def class_defaults_before():
    return _class_defaults()


@pytest.fixture(scope="module")
def localized_html(class_defaults_before):
    m = localize(build_map(), lambda path: PREFIX + path)
    return m.get_root().render()


def _links(html: str) -> list[str]:
    return [u.strip() for u in LINK_RE.findall(html)]


def _is_remote(url: str) -> bool:
    return url.lower().startswith(("http:", "https:", "//"))


def test_localized_page_names_no_remote_url(localized_html, class_defaults_before):
    links = _links(localized_html)
    assert links, "no src/href found in the rendered map"
    remote = [u for u in links if _is_remote(u)]
    assert remote == []
    # nor, anywhere in the page, any URL folium would load an asset from
    for pairs in class_defaults_before.values():
        for name, url in pairs:
            assert url not in localized_html, f"{name}: {url}"
    assert "cdn" not in localized_html.lower()


def test_localized_page_loads_every_vendored_file_it_needs(localized_html):
    local = [u for u in _links(localized_html) if u.startswith(PREFIX)]
    assert set(local) == {PREFIX + p for p in local_asset_paths()}
    for url in local:
        assert (VENDOR_DIR / url[len(PREFIX) :]).is_file(), url


def test_every_table_path_exists():
    paths = local_asset_paths()
    assert len(paths) == len(set(paths)) == len(set(VENDORED_ASSETS.values()))
    assert "leaflet/leaflet.js" in paths
    for path in paths:
        assert (VENDOR_DIR / path).is_file(), path
    assert VENDOR_DIR == ROOT / "web" / "static" / "vendor"


def test_table_covers_exactly_the_folium_classes_used():
    names = {name for pairs in _class_defaults().values() for name, _ in pairs}
    assert names == set(VENDORED_ASSETS)


@pytest.mark.parametrize(
    ("name", "version_in_url"),
    [
        ("leaflet", "leaflet@1.9.3/"),
        ("leaflet_css", "leaflet@1.9.3/"),
        ("jquery", "jquery-3.7.1."),
        ("bootstrap", "bootstrap@5.2.2/"),
        ("bootstrap_css", "bootstrap@5.2.2/"),
        ("awesome_markers_font_css", "fontawesome-free@6.2.0/"),
    ],
)
def test_folium_still_asks_for_the_vendored_versions(name, version_in_url):
    # When folium is upgraded and moves to other versions, re-vendor
    # (scripts/vendor_assets.sh) and update this list.
    urls = dict(folium.Map.default_js + folium.Map.default_css)
    assert version_in_url in urls[name]


def test_class_attributes_are_not_changed(localized_html, class_defaults_before):
    assert _class_defaults() == class_defaults_before
    # a map built afterwards, without localize, keeps folium's CDN defaults
    m2 = build_map()
    assert "default_js" not in vars(m2) and "default_css" not in vars(m2)
    assert dict(m2.default_js)["leaflet"].startswith("https://")
    html2 = m2.get_root().render()
    assert dict(folium.Map.default_js)["leaflet"] in html2
    assert any(_is_remote(u) for u in _links(html2))


def test_localize_sets_instance_lists_and_is_idempotent():
    m = build_map()
    assert localize(m, lambda path: PREFIX + path) is m
    assert vars(m)["default_js"] is not folium.Map.default_js
    first = m.get_root().render()
    localize(m, lambda path: PREFIX + path)
    assert dict(m.default_js)["leaflet"] == PREFIX + "leaflet/leaflet.js"
    assert m.get_root().render().count(PREFIX + "leaflet/leaflet.js") == 1
    assert first.count(PREFIX + "leaflet/leaflet.js") == 1


def test_unknown_asset_raises_and_leaves_map_unchanged():
    class Gadget(JSCSSMixin):
        default_js = [("gadget_js", "https://cdn.example.org/gadget@1.0/gadget.min.js")]

    m = build_map()
    Gadget().add_to(m)
    with pytest.raises(UnvendoredAssetError) as info:
        localize(m, lambda path: PREFIX + path)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "gadget_js" in message
    assert "https://cdn.example.org/gadget@1.0/gadget.min.js" in message
    assert "default_js" not in vars(m)  # nothing localized half-way
    assert Gadget.default_js == [
        ("gadget_js", "https://cdn.example.org/gadget@1.0/gadget.min.js")
    ]


def test_unknown_css_asset_raises():
    class Styled(JSCSSMixin):
        default_css = [("styled_css", "https://cdn.example.org/styled.css")]

    m = folium.Map(tiles=None)
    Styled().add_to(m)
    with pytest.raises(UnvendoredAssetError, match="styled_css"):
        localize(m, lambda path: PREFIX + path)


def _css_urls(css: str) -> list[str]:
    return [url.strip() for _quote, url in CSS_URL_RE.findall(css)]


@pytest.mark.parametrize(
    "css_file",
    sorted(VENDOR_DIR.rglob("*.css")),
    ids=lambda p: p.relative_to(VENDOR_DIR).as_posix(),
)
def test_vendored_css_urls_resolve(css_file):
    css = css_file.read_text(encoding="utf-8")
    assert not CSS_IMPORT_RE.search(css), "@import in vendored CSS"
    for url in _css_urls(css):
        if url.lower().startswith("data:") or url.startswith("#"):
            continue  # inline data, or a fragment such as leaflet.css's url(#default#VML)
        assert not _is_remote(url), url
        assert not url.startswith("/"), url
        target = (css_file.parent / re.split(r"[?#]", url, maxsplit=1)[0]).resolve()
        assert target.is_file(), f"{css_file.name}: url({url})"
        assert target.is_relative_to(VENDOR_DIR.resolve()), url


def test_css_files_found():
    assert len(list(VENDOR_DIR.rglob("*.css"))) >= 9


def test_vendored_tree_is_lean():
    files = [p for p in VENDOR_DIR.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix == ".map"]
    assert not [p for p in VENDOR_DIR.rglob("*") if p.is_dir() and p.name in {"src", "docs", "scss", "less"}]
    assert sum(p.stat().st_size for p in files) < 4 * 1024 * 1024


def test_offline_module_does_not_import_flask():
    source = (ROOT / "layers" / "offline.py").read_text()
    assert not re.search(r"^\s*(from|import)\s+flask\b", source, re.MULTILINE)
