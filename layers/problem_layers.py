"""Folium layers of a sector's problems and of its occurrences as grid counts.

Problems are few (tens per sector) and are drawn with their geometry, coloured by
category (data/categories.csv). Occurrences are many (up to hundreds of thousands) and
are never embedded: :class:`GridCounts` is an empty layer that our script
(web/static/js/grid_layer.js, loaded by the page) fills with the 200 m cell counts of
the current view, fetched from a JSON endpoint (DESIGN.md section 6).

Problem titles and partners come from imported files and category labels from data:
every text property shown in a tooltip or popup goes through
:func:`layers.escaping.html_text` (folium's GeoJsonTooltip and GeoJsonPopup set them as
innerHTML).
"""

from __future__ import annotations

import json

import folium
from branca.element import MacroElement
from jinja2 import Template

from geo.problems.categories import categories
from geo.problems.status import LABELS as STATUS_LABELS
from layers.escaping import html_text
from layers.style import COUNT_CELL, COUNT_CLASSES, Symbol, count_symbols

__all__ = ["GRID_CLASSES", "GridCounts", "category_style", "grid_legend_entries", "problem_layer"]

#: Classes of the cell counts: (lowest count of the class, colour), layers.style's sequential classes.
GRID_CLASSES = [list(c) for c in COUNT_CLASSES]


def category_style() -> dict[str, tuple[str, str]]:
    """Category code -> (colour, French label), from data/categories.csv.

    Examples
    --------
    >>> category_style()["rodeos"]
    ('#d7191c', 'Rodéos et deux-roues')
    """
    return {c.code: (c.colour, c.label) for c in categories()}


def grid_legend_entries() -> list[Symbol]:
    """The legend rows of :data:`GRID_CLASSES`.

    Examples
    --------
    >>> grid_legend_entries()[0].label, grid_legend_entries()[-1].label
    ('1 fait', '50 faits et plus')
    """
    return count_symbols()


def _problem_features(problems: list[dict]) -> dict:
    styles = category_style()
    features = []
    for p in problems:
        colour, label = styles.get(p["category_code"], ("#555555", p["category_code"]))
        shown = {"titre": p["title"], "catégorie": label, "statut": STATUS_LABELS.get(p["status"], p["status"]),
                 "signalé le": p["reported_on"].strftime("%d/%m/%Y"), "partenaire": p["partner"] or "—"}
        features.append({"type": "Feature", "geometry": json.loads(p["geojson"]),
                         "properties": {**{k: html_text(v) for k, v in shown.items()}, "colour": colour}})
    return {"type": "FeatureCollection", "features": features}


def problem_layer(problems: list[dict], name: str = "Problèmes du secteur", pane: str | None = None
                  ) -> folium.FeatureGroup:
    """The problems drawn with their geometry (points as circles), coloured by category, with a popup.

    Parameters
    ----------
    problems : list of dict
        Rows of sql/queries/sector_problems.sql: ``category_code``, ``title``, ``partner``,
        ``status``, ``reported_on`` (date) and ``geojson`` (lon/lat geometry).
    name : str
        Name of the layer in the layer control.
    pane : str, optional
        Leaflet pane to draw in (a ``folium.map.CustomPane`` added to the map before).

    Examples
    --------
    >>> import datetime as dt
    >>> layer = problem_layer([{"category_code": "rodeos", "title": "Rodéos rue X", "partner": None,
    ...     "status": "priorise", "reported_on": dt.date(2026, 3, 1),
    ...     "geojson": '{"type": "Point", "coordinates": [6.86, 47.64]}'}])
    >>> layer.layer_name, len(layer._children)
    ('Problèmes du secteur', 1)

    Titles and partners are shown as text, never as markup:

    >>> hostile = _problem_features([{"category_code": "rodeos", "title": '<img src=x onerror="alert(1)">',
    ...     "partner": "`${alert(2)}`", "status": "priorise", "reported_on": dt.date(2026, 3, 1),
    ...     "geojson": '{"type": "Point", "coordinates": [6.86, 47.64]}'}])["features"][0]["properties"]
    >>> hostile["titre"], hostile["partenaire"]
    ('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;', '&#96;&#36;&#123;alert(2)&#125;&#96;')
    """
    group = folium.FeatureGroup(name=name)
    if not problems:
        return group
    fields = ["titre", "catégorie", "statut", "signalé le", "partenaire"]
    in_pane = {"pane": pane} if pane else {}
    folium.GeoJson(
        _problem_features(problems),
        marker=folium.CircleMarker(radius=7, fill=True),
        # The pane goes in the style too: folium builds circle markers from the style, not the options.
        style_function=lambda f: {"color": "#1e293b", "weight": 2, "fillColor": f["properties"]["colour"],
                                  "fillOpacity": 0.9, "opacity": 0.9, **in_pane},
        highlight_function=lambda f: {"weight": 4},
        popup=folium.GeoJsonPopup(fields, aliases=["Problème", "Catégorie", "Statut", "Signalé le", "Partenaire"]),
        tooltip=folium.GeoJsonTooltip(["titre"], labels=False),
        **in_pane,
    ).add_to(group)
    return group


class GridCounts(MacroElement):
    """Fill a layer with the cell counts of the current view, fetched from ``url`` (``&bbox=`` appended).

    Needs ``PSQ.gridLayer`` of web/static/js/grid_layer.js on the page; add it to the
    map after ``layer``.

    Parameters
    ----------
    layer : folium.FeatureGroup
        The (empty) layer that receives the cells.
    url : str
        The JSON endpoint with its query string (period and category), without ``bbox``.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> group = folium.FeatureGroup(name="Faits").add_to(m)
    >>> _ = GridCounts(group, "/api/x?du=2026-01-01").add_to(m)
    >>> "PSQ.gridLayer(" in m.get_root().render()
    True
    """

    _template = Template("""
{% macro script(this, kwargs) %}
PSQ.gridLayer({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.url|tojson }},
              {{ this.classes|tojson }}, {{ this.cell_style|tojson }});
{% endmacro %}
""")

    def __init__(self, layer: folium.FeatureGroup, url: str):
        super().__init__()
        self._name = "GridCounts"
        self.layer = layer
        self.url = url
        self.classes = GRID_CLASSES
        self.cell_style = COUNT_CELL


class OccurrenceTiles(MacroElement):
    """Fill a layer with the occurrences of vector tiles ``url_template`` (``{z}/{x}/{y}``), from ``min_zoom`` on.

    Needs Leaflet.VectorGrid (web/static/vendor/leaflet.vectorgrid/) and
    ``PSQ.occurrenceTiles`` of web/static/js/occurrence_tiles.js on the page.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> group = folium.FeatureGroup(name="Faits", show=False).add_to(m)
    >>> _ = OccurrenceTiles(group, "/api/t/{z}/{x}/{y}.mvt?du=2026-01-01").add_to(m)
    >>> "PSQ.occurrenceTiles(" in m.get_root().render()
    True
    """

    _template = Template("""
{% macro script(this, kwargs) %}
PSQ.occurrenceTiles({{ this.layer.get_name() }}, {{ this.url_template|tojson }}, {{ this.colours|tojson }},
                    {{ this.min_zoom }});
{% endmacro %}
""")

    def __init__(self, layer: folium.FeatureGroup, url_template: str, min_zoom: int = 15):
        super().__init__()
        self._name = "OccurrenceTiles"
        self.layer = layer
        self.url_template = url_template
        self.colours = {code: colour for code, (colour, _) in category_style().items()}
        self.min_zoom = min_zoom
