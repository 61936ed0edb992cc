"""A small legend for one map layer, shown only while that layer is on the map.

Folium has no legend of its own and the usual recipes load branca's colormap scripts
(d3) from a CDN; this element is plain Leaflet (an ``L.control``) and HTML, so the
page still loads nothing from the internet. Its look is in web/static/app.css
(``.psq-legend``).
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

from layers.escaping import html_text
from layers.style import Symbol

__all__ = ["Legend", "legend_html"]


def legend_html(title: str, entries: list[Symbol | tuple[str, str]], note: str | None = None) -> str:
    """The HTML of a legend: a title, one swatch and label per entry, an optional note.

    Parameters
    ----------
    title : str
        Heading of the legend (French, as the layer's name).
    entries : list of layers.style.Symbol or (colour, label)
        The symbols (a pair is a fill) and their labels, in display order.
    note : str, optional
        A line of text under the entries.

    Returns
    -------
    str
        Escaped HTML.

    Examples
    --------
    >>> legend_html("Faits", [("#ff0000", "plus de 5 <faits>")])
    '<div class="psq-legend-title">Faits</div><div class="psq-legend-row"><i style="background:#ff0000"></i>plus de 5 &lt;faits&gt;</div>'
    """
    symbols = [e if isinstance(e, Symbol) else Symbol(*e) for e in entries]
    rows = "".join(f'<div class="psq-legend-row"><i style="{html_text(s.swatch_css())}"></i>'
                   f'{html_text(s.label)}</div>' for s in symbols)
    extra = f'<div class="psq-legend-note">{html_text(note)}</div>' if note else ""
    return f'<div class="psq-legend-title">{html_text(title)}</div>{rows}{extra}'


class Legend(MacroElement):
    """A legend control tied to a layer: it appears and disappears with the layer.

    Add it to the map after the layer (the script refers to the layer's variable).

    Parameters
    ----------
    layer : folium.FeatureGroup
        The layer the legend explains.
    title : str
        Heading of the legend.
    entries : list of layers.style.Symbol or (colour, label)
        Swatches and their French labels.
    note : str, optional
        A line of text under the entries.
    position : str, optional
        Leaflet corner of the control (default ``"bottomright"``).

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> group = folium.FeatureGroup(name="Faits").add_to(m)
    >>> _ = Legend(group, "Faits", [("#ff0000", "beaucoup")]).add_to(m)
    >>> "psq-legend" in m.get_root().render()
    True
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, layer = {{ this.layer.get_name() }};
  var control = L.control({position: {{ this.position|tojson }}});
  control.onAdd = function () {
    var div = L.DomUtil.create("div", "psq-legend");
    div.innerHTML = {{ this.html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  // Shown only while its layer is on: a legend of a hidden layer misleads.
  var shown = false;
  function sync() {
    var on = map.hasLayer(layer);
    if (on && !shown) { control.addTo(map); }
    if (!on && shown) { control.remove(); }
    shown = on;
  }
  map.on("overlayadd overlayremove", sync);
  sync();
})();
{% endmacro %}
""")

    def __init__(self, layer, title: str, entries: list[Symbol | tuple[str, str]], note: str | None = None,
                 position: str = "bottomright"):
        super().__init__()
        self._name = "Legend"
        self.layer = layer
        self.position = position
        self.html = legend_html(title, entries, note)
