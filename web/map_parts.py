"""A Folium map rendered into the three parts our templates place: header, html, script.

Under the Content-Security-Policy (web/__init__.py) an inline script runs only with the
request's nonce. The templates give it to the map script (``<script nonce="{{ csp_nonce() }}">``);
:func:`render_map` gives it to the ``<script>`` tags of folium's header, which hold only
vendored files and folium's own settings (``L_NO_TOUCH``...), never data. The nonce is
added to those parts only, never by rewriting a whole page: a script injected through
data must stay without it.
"""

from __future__ import annotations

import re

import folium
from flask import request, url_for

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
