"""A Folium map rendered into the three parts our templates place: header, html, script.

Under the Content-Security-Policy (web/__init__.py) an inline script runs only with the
request's nonce. The templates give it to the map script (``<script nonce="{{ csp_nonce() }}">``);
:func:`render_map` gives it to the ``<script>`` tags of folium's header, which hold only
vendored files and folium's own settings (``L_NO_TOUCH``...), never data. The nonce is
added to those parts only, never by rewriting a whole page: a script injected through
data must stay without it.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import folium
from flask import current_app, request, url_for

from geo.territory.basemap import archive_info
from layers.base_map import LocalBaseMap, base_map
from layers.escaping import html_text, refuse_template_syntax
from layers.offline import localize

_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


def csp_nonce() -> str:
    """The nonce of the current request (set by Talisman), ``""`` outside a request that has one."""
    return getattr(request, "csp_nonce", "") or ""


def with_nonce(header: str, nonce: str) -> str:
    """Every ``<script`` tag of ``header`` with ``nonce``.

    >>> with_nonce('<script src="/static/a.js"></script><script>L_NO_TOUCH = false;</script>', "abc")
    '<script nonce="abc" src="/static/a.js"></script><script nonce="abc">L_NO_TOUCH = false;</script>'
    """
    return _SCRIPT_TAG.sub(f'<script nonce="{html_text(nonce)}"', header) if nonce else header


def page_map(bounds: tuple[float, float, float, float]) -> folium.Map:
    """The base map of every page, fitted to ``bounds`` (lon/lat): the local base map if one is installed
    (setting BASE_MAP), else the raster tiles of BASE_TILES_URL if set, else none."""
    config = current_app.config
    return base_map(bounds, config["BASE_TILES_URL"], config["BASE_TILES_ATTRIBUTION"], local=local_base_map())


def base_map_file() -> Path | None:
    """The configured base map archive (setting BASE_MAP) if it is a readable file, else None."""
    setting = current_app.config.get("BASE_MAP")
    path = Path(setting) if setting else None
    return path if path is not None and path.is_file() and os.access(path, os.R_OK) else None


def local_base_map() -> LocalBaseMap | None:
    """The installed PMTiles archive as the maps draw it, None if there is none."""
    path = base_map_file()
    if path is None:
        return None
    stat = path.stat()
    try:
        info = _archive_info(path, stat.st_size, stat.st_mtime_ns)
    except ValueError as error:  # a broken file: the maps go without a base map, the log says why
        current_app.logger.warning("%s", error)
        return None
    return LocalBaseMap(url_for("basemap.archive"), current_app.config["BASE_MAP_STYLE"], info.attribution,
                        info.max_zoom)


def base_map_version() -> list:
    """What the kept maps depend on in the base map: its file, size and time, and its style."""
    path = base_map_file()
    stat = path.stat() if path else None
    return [str(path), stat and stat.st_size, stat and stat.st_mtime_ns, current_app.config["BASE_MAP_STYLE"]]


@functools.lru_cache(maxsize=8)
def _archive_info(path: Path, size: int, mtime_ns: int):
    return archive_info(path)  # read once per version of the file (size and time are the key)


def render_parts(m: folium.Map, layer_control: str | None = "open") -> dict[str, str]:
    """Add the layer control (``"open"``, ``"collapsed"`` or None), serve every asset locally, render.

    The parts hold no nonce: they may be kept and served to other requests
    (:func:`with_request_nonce` gives them the nonce of the request that shows them).
    ``localize`` comes last, once every plugin is on the map: an element added after it
    would load its script from a CDN. Leaflet's layer control sets each layer's name as
    innerHTML: the names are escaped here, in case one ever holds data. A map whose data
    still holds Jinja delimiters is refused (``ValueError``, see :mod:`layers.escaping`).
    """
    if layer_control:
        for child in m._children.values():
            if isinstance(child, folium.map.Layer) and child.control:
                child.layer_name = html_text(child.layer_name)
        folium.LayerControl(collapsed=layer_control == "collapsed").add_to(m)
    localize(m, lambda path: url_for("static", filename="vendor/" + path))
    refuse_template_syntax(m)  # branca would run "{{ ... }}" of data as Jinja: an error, never code run
    root = m.get_root()
    root.render()  # renders the children, so that header, html and script hold the map
    return {"header": root.header.render(), "html": root.html.render(), "script": root.script.render()}


def with_request_nonce(parts: dict[str, str]) -> dict[str, str]:
    """The parts with the current request's nonce on the ``<script>`` tags of the header (only there)."""
    return {**parts, "header": with_nonce(parts["header"], csp_nonce())}


def render_map(m: folium.Map, layer_control: str | None = "open") -> dict[str, str]:
    """:func:`render_parts` for the current request, its nonce given to the header's scripts."""
    return with_request_nonce(render_parts(m, layer_control))
