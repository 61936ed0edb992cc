"""Serve every front-end asset of a Folium map from the app's own static files.

Folium elements name the JavaScript and CSS files they need in their
``default_js`` / ``default_css`` class attributes, as ``(name, url)`` pairs
pointing to public CDNs. The app must work with no internet at all, so the
files are vendored in ``web/static/vendor/`` (see its README.md and
``scripts/vendor_assets.sh``) and :func:`localize` rewrites, on one map only,
each of those pairs to the local copy.

The rewrite is per instance: the class attributes folium shares between all
maps (and ``JSCSSMixin.add_js_link`` / ``add_css_link``, which mutate them)
are never touched. An asset name missing from :data:`VENDORED_ASSETS` raises
:class:`UnvendoredAssetError`, so a map can never fall back to a CDN silently.

Call :func:`localize` once the map is complete, just before rendering it:
elements added afterwards keep folium's CDN defaults.

This module does not depend on Flask: the caller passes a function building
the URL of a vendored file (``url_for`` in the web app, a lambda in tests).

Examples
--------
>>> import folium
>>> from layers.offline import localize
>>> m = folium.Map(tiles=None)
>>> _ = localize(m, lambda path: "/static/vendor/" + path)
>>> dict(m.default_js)["leaflet"]
'/static/vendor/leaflet/leaflet.js'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from branca.element import Element

__all__ = [
    "VENDOR_DIR",
    "VENDORED_ASSETS",
    "UnvendoredAssetError",
    "local_asset_paths",
    "localize",
]

#: Folder of the vendored files, ``web/static/vendor`` of this repository.
VENDOR_DIR: Path = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor"

#: Folium asset name -> file path relative to :data:`VENDOR_DIR`.
#: The names are those of folium 0.20 (``Map`` and the plugins ``Draw``,
#: ``MarkerCluster``, ``FastMarkerCluster`` and ``HeatMap``). JavaScript and
#: CSS names share one table: folium never uses the same name for both.
VENDORED_ASSETS: dict[str, str] = {
    # folium.Map: JavaScript
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/js/bootstrap.bundle.min.js",
    "awesome_markers": "leaflet.awesome-markers/leaflet.awesome-markers.js",
    # folium.Map: CSS
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/css/bootstrap.min.css",
    "glyphicons_css": "bootstrap3-glyphicons/css/bootstrap-glyphicons.css",
    "awesome_markers_font_css": "fontawesome-free/css/all.min.css",
    "awesome_markers_css": "leaflet.awesome-markers/leaflet.awesome-markers.css",
    "awesome_rotate_css": "folium/leaflet.awesome.rotate.min.css",
    # folium.plugins.Draw
    "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
    # Leaflet.draw's texts in French (layers.zone_layers.FrenchDraw), after leaflet.draw.js
    "leaflet_draw_locale_fr": "leaflet-draw-locales/fr.js",
    # folium.plugins.MarkerCluster and FastMarkerCluster
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    # folium.plugins.HeatMap
    "leaflet-heat.js": "folium/leaflet_heat.min.js",
    # the local PMTiles base map (layers.base_map)
    "protomaps_leaflet": "protomaps-leaflet/protomaps-leaflet.js",
}


class UnvendoredAssetError(ValueError):
    """A map element asks for an asset that is not vendored.

    Parameters
    ----------
    name : str
        The folium asset name (first item of a ``default_js`` /
        ``default_css`` pair).
    url : str
        The URL folium would load it from.
    element : str, optional
        Class name of the element asking for it, for the message.

    Examples
    --------
    >>> err = UnvendoredAssetError("d3", "https://cdn.example/d3.js", "Vega")
    >>> "d3" in str(err) and "https://cdn.example/d3.js" in str(err)
    True
    """

    def __init__(self, name: str, url: str, element: str | None = None):
        self.name = name
        self.url = url
        self.element = element
        where = f" (needed by {element})" if element else ""
        super().__init__(
            f"asset {name!r}{where} is not vendored: it would be loaded from {url}. "
            "Vendor it in web/static/vendor/ (scripts/vendor_assets.sh) and add it "
            "to layers.offline.VENDORED_ASSETS."
        )


def local_asset_paths() -> list[str]:
    """Every vendored file path of the mapping table, relative to ``VENDOR_DIR``.

    Returns
    -------
    list of str
        Paths such as ``"leaflet/leaflet.js"``, without duplicates, in table
        order.

    Examples
    --------
    >>> "leaflet/leaflet.js" in local_asset_paths()
    True
    >>> all((VENDOR_DIR / p).is_file() for p in local_asset_paths())
    True
    """
    return list(dict.fromkeys(VENDORED_ASSETS.values()))


def _walk(element: Element) -> Iterator[Element]:
    """Yield ``element`` and all its descendants (branca ``_children``), once each."""
    seen: set[int] = set()
    stack = [element]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        children = getattr(el, "_children", None) or {}
        stack.extend(reversed(list(children.values())))


def _localized(
    element: Element, links: list[tuple[str, str]], asset_url: Callable[[str], str]
) -> list[tuple[str, str]]:
    """New list of ``(name, local_url)`` for the ``(name, url)`` pairs of ``links``."""
    out = []
    for name, url in links:
        path = VENDORED_ASSETS.get(name)
        if path is None:
            raise UnvendoredAssetError(name, url, type(element).__name__)
        out.append((name, asset_url(path)))
    return out


def localize(m: Element, asset_url: Callable[[str], str]) -> Element:
    """Make ``m`` and all its descendants load their JS/CSS from vendored files.

    Every element of the tree that has ``default_js`` / ``default_css`` gets
    new per-instance lists of ``(name, asset_url(path))``, ``path`` being the
    vendored file of ``name`` in :data:`VENDORED_ASSETS`. Class attributes are
    never modified, so other maps keep folium's defaults. Calling it again on
    the same map is harmless.

    The check of every name is done before any element is changed: when
    :class:`UnvendoredAssetError` is raised, the map is left as it was.

    Parameters
    ----------
    m : branca.element.Element
        A ``folium.Map`` (or any branca element), already holding all its
        layers, controls and plugins.
    asset_url : callable
        Maps a path relative to :data:`VENDOR_DIR`, e.g.
        ``"leaflet/leaflet.js"``, to the URL the page must use, e.g.
        ``lambda p: url_for("static", filename="vendor/" + p)`` in Flask.

    Returns
    -------
    branca.element.Element
        ``m`` itself, for chaining.

    Raises
    ------
    UnvendoredAssetError
        If an element asks for an asset name missing from
        :data:`VENDORED_ASSETS`; the message names the asset and its CDN URL.

    Examples
    --------
    >>> import folium
    >>> from folium.plugins import HeatMap
    >>> m = folium.Map(tiles=None)
    >>> _ = HeatMap([[48.85, 2.35, 1.0]]).add_to(m)
    >>> html = localize(m, lambda p: "/static/vendor/" + p).get_root().render()
    >>> dict(m.default_js)["leaflet"], "/static/vendor/leaflet/leaflet.js" in html
    ('/static/vendor/leaflet/leaflet.js', True)
    >>> dict(folium.Map.default_js)["leaflet"].startswith("https://")  # the class keeps folium's own
    True
    """
    updates: list[tuple[Element, str, list[tuple[str, str]]]] = []
    for el in _walk(m):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                updates.append((el, attr, _localized(el, links, asset_url)))
    for el, attr, links in updates:
        setattr(el, attr, links)
    return m
