"""A Folium map rendered into the three parts our templates place: header, html, script."""

from __future__ import annotations

import folium
from flask import url_for

from layers.offline import localize


def render_map(m: folium.Map, layer_control: str | None = "open") -> dict[str, str]:
    """Add the layer control (``"open"``, ``"collapsed"`` or None), serve every asset locally, render.

    ``localize`` comes last, once every plugin is on the map: an element added after it
    would load its script from a CDN.
    """
    if layer_control:
        folium.LayerControl(collapsed=layer_control == "collapsed").add_to(m)
    localize(m, lambda path: url_for("static", filename="vendor/" + path))
    root = m.get_root()
    root.render()  # renders the children, so that header, html and script hold the map
    return {"header": root.header.render(), "html": root.html.render(), "script": root.script.render()}
