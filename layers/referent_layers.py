"""Folium layers of the prevention pages: communes by référent, the référents' bases, conventions and CSI.

- :func:`coverage_layer`: each commune filled with the colour of its référent (a qualitative palette,
  one colour per référent), the communes nobody covers in bright red with a thick dashed outline
  ("Non couverte"); the communes of the logged-in référent outlined in dark blue;
- :func:`bases_layer`: each référent's base, a round marker of his colour;
- :func:`convention_layer`: the communes with a convention de participation citoyenne, filled by its
  state (in force, renewal due soon, ended);
- :func:`contract_layer`: the communes of a CSI, outlined (no fill, so that it reads over the conventions).

Names of référents, services and contracts come from imported files: every text of a tooltip goes
through :func:`layers.escaping.html_text` (folium sets tooltips as innerHTML, and ``folium.Tooltip`` puts
its text raw into the map script). Numbers and dates are French (geo.formats).
"""

from __future__ import annotations

import folium
import geopandas as gpd

from geo import formats
from layers.escaping import html_text
from layers.legend import Legend
from layers.style import Symbol

#: One colour per référent (ColorBrewer Dark2 and Paired without their reds: red means "non couverte").
REFERENT_COLOURS = ("#1b9e77", "#7570b3", "#e6ab02", "#1f78b4", "#66a61e", "#a6761d", "#b2df8a", "#6a3d9a",
                    "#a6cee3", "#ff7f00", "#666666", "#cab2d6")
UNCOVERED_COLOUR = "#dc2626"
UNCOVERED_LABEL = "Non couverte"
OWN_OUTLINE = "#000091"
#: Fill of a commune by the state of its convention (geo.referents.conventions.STATES).
CONVENTION_COLOURS = {"en_vigueur": "#16a34a", "a_reconduire": "#f59e0b", "terminee": "#94a3b8"}
CONTRACT_COLOUR = "#7c3aed"
_TOOLTIP_STYLE = "font: 12px/1.4 system-ui, sans-serif;"


def referent_colours(referent_ids) -> dict[int, str]:
    """A colour per référent, in the order given (the table's, by name); the palette repeats past 12.

    >>> referent_colours([7, 3])
    {7: '#1b9e77', 3: '#7570b3'}
    """
    return {rid: REFERENT_COLOURS[i % len(REFERENT_COLOURS)] for i, rid in enumerate(referent_ids)}


def km(value) -> str:
    """A distance in km, French style; a dash when unknown (no town hall).

    >>> km(12.345), km(None)
    ('12,3\\xa0km', '–')
    """
    if value is None or value != value:
        return "–"
    return f"{formats.number(value, 1)}\u00a0km"


def inhabitants(value) -> str:
    return "–" if value is None or value != value else formats.number(int(value))


def _display(shapes: gpd.GeoDataFrame, tolerance_m: float = 5.0) -> gpd.GeoDataFrame:
    gdf = shapes.to_crs(2154)
    gdf["geometry"] = gdf.geometry.simplify(tolerance_m, preserve_topology=True)
    return gdf.to_crs(4326)


def coverage_layer(shapes: gpd.GeoDataFrame, colours: dict[int, str], own_referent_id: int | None = None,
                   name: str = "Communes par référent") -> folium.FeatureGroup:
    """Communes coloured by their référent, with name, référent, population and distance base → mairie on hover.

    Parameters
    ----------
    shapes : GeoDataFrame
        geo.referents.referents.coverage_shapes: ``insee``, ``name``, ``population``, ``referent_id``,
        ``referent`` (None: nobody), ``distance_km`` and a geometry.
    colours : dict
        :func:`referent_colours` of the référents.

    Examples
    --------
    >>> import shapely
    >>> shapes = gpd.GeoDataFrame({"insee": ["90010"], "name": ["Belfort"], "population": [47656],
    ...     "referent_id": [1], "referent": ["<script>alert(1)</script>"], "distance_km": [2.46]},
    ...     geometry=[shapely.box(990000, 6720000, 991000, 6721000)], crs=2154)
    >>> [geojson] = coverage_layer(shapes, {1: "#1b9e77"})._children.values()
    >>> properties = geojson.data["features"][0]["properties"]
    >>> properties["referent"], properties["distance"], properties["population"]
    ('&lt;script&gt;alert(1)&lt;/script&gt;', '2,5\\xa0km', '47\\u202f656')
    """
    gdf = _display(shapes[["insee", "name", "population", "referent_id", "referent", "distance_km", "geometry"]].copy())
    covered = gdf["referent_id"].notna()
    fills = {insee: colours.get(int(rid), "#cccccc") if ok else UNCOVERED_COLOUR
             for insee, rid, ok in zip(gdf.insee, gdf.referent_id, covered)}
    own = {insee for insee, rid, ok in zip(gdf.insee, gdf.referent_id, covered)
           if ok and own_referent_id is not None and int(rid) == own_referent_id}
    table = gpd.GeoDataFrame({
        "insee": gdf["insee"].map(html_text), "name": gdf["name"].map(html_text),
        "referent": [html_text(r) if ok else UNCOVERED_LABEL for r, ok in zip(gdf.referent, covered)],
        "population": gdf["population"].map(inhabitants), "distance": gdf["distance_km"].map(km),
    }, geometry=gdf.geometry, crs=4326)
    keys = dict(zip(table.insee, gdf.insee))  # escaped code -> code (INSEE codes are digits: the same)
    group = folium.FeatureGroup(name=name)
    folium.GeoJson(
        table.to_json(drop_id=True),
        style_function=lambda f: _coverage_style(keys[f["properties"]["insee"]], fills, own),
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(["name", "referent", "population", "distance"],
                                      aliases=["Commune", "Référent", "Population", "Distance base → mairie"],
                                      style=_TOOLTIP_STYLE),
    ).add_to(group)
    return group


def _coverage_style(insee: str, fills: dict[str, str], own: set[str]) -> dict:
    fill = fills[insee]
    if fill == UNCOVERED_COLOUR:  # stands out: a thick dashed red line around a bright fill
        return {"color": UNCOVERED_COLOUR, "weight": 2.5, "dashArray": "6 4", "fillColor": UNCOVERED_COLOUR,
                "fillOpacity": 0.3}
    if insee in own:
        return {"color": OWN_OUTLINE, "weight": 3.5, "fillColor": fill, "fillOpacity": 0.65}
    return {"color": "#ffffff", "weight": 1, "fillColor": fill, "fillOpacity": 0.55}


def coverage_legend(layer: folium.FeatureGroup, referents, colours: dict[int, str],
                    own_referent_id: int | None = None) -> Legend:
    """The legend of :func:`coverage_layer`: one swatch per référent, then "Non couverte" (and "vos communes")."""
    entries = [Symbol(colours[r.id], r.name) for r in referents]
    entries.append(Symbol(UNCOVERED_COLOUR, UNCOVERED_LABEL))
    if own_referent_id is not None:
        entries.append(Symbol(OWN_OUTLINE, "Vos communes", "outline"))
    return Legend(layer, "Référents sûreté", entries, note="● base du référent")


def bases_layer(referents, colours: dict[int, str], own_referent_id: int | None = None,
                name: str = "Bases des référents") -> folium.FeatureGroup:
    """Each référent's base: a round marker of his colour (larger for the logged-in référent), named on hover.

    ``referents``: geo.referents.referents.ReferentLoad (``id``, ``name``, ``kind_label``, ``service``,
    ``lat``, ``lon``).

    >>> from types import SimpleNamespace as R
    >>> layer = bases_layer([R(id=1, name="`${x}`", kind_label="Référent sûreté", service="DDSP", lat=47.6, lon=6.8)],
    ...                     {1: "#1b9e77"})
    >>> [marker] = layer._children.values()
    >>> [tooltip] = marker._children.values()
    >>> "${" in tooltip.text, "&#36;&#123;x&#125;" in tooltip.text
    (False, True)
    """
    group = folium.FeatureGroup(name=name)
    for r in referents:
        own = r.id == own_referent_id
        text = (f"<strong>{html_text(r.name)}</strong><br>{html_text(r.kind_label)} · {html_text(r.service)}"
                "<br>Base")
        folium.CircleMarker([r.lat, r.lon], radius=9 if own else 7, color="#111827", weight=2, fill=True,
                            fill_color=colours.get(r.id, "#cccccc"), fill_opacity=1,
                            tooltip=folium.Tooltip(text, style=_TOOLTIP_STYLE)).add_to(group)
    return group


def convention_layer(shapes: gpd.GeoDataFrame, conventions, name: str = "Participation citoyenne"
                     ) -> folium.FeatureGroup:
    """The communes with a convention, filled by its state, with its dates and volunteers on hover.

    ``conventions``: geo.referents.conventions.ConventionRow, the latest of a commune first (the list's
    order); ``shapes``: geo.referents.conventions.commune_shapes of their communes.
    """
    latest = {}
    for c in conventions:
        latest.setdefault(c.commune_insee, c)
    gdf = _display(shapes[shapes.insee.isin(list(latest))][["insee", "name", "geometry"]].copy())
    rows = [latest[i] for i in gdf.insee]
    table = gpd.GeoDataFrame({
        "insee": list(gdf.insee), "name": gdf["name"].map(html_text),
        "signed": [formats.day(c.signed_on) for c in rows],
        "next": [formats.day(c.renewal.next_on) if c.renewal.next_on else "–" for c in rows],
        "volunteers": [formats.number(c.volunteers) for c in rows],
        "state": [c.state_label for c in rows],
    }, geometry=gdf.geometry, crs=4326)
    fills = {c.commune_insee: CONVENTION_COLOURS[c.state] for c in latest.values()}
    group = folium.FeatureGroup(name=name)
    if len(table):
        folium.GeoJson(
            table.to_json(drop_id=True),
            style_function=lambda f: {"color": "#334155", "weight": 1, "fillOpacity": 0.6,
                                      "fillColor": fills[f["properties"]["insee"]]},
            highlight_function=lambda f: {"weight": 3},
            tooltip=folium.GeoJsonTooltip(["name", "signed", "next", "volunteers", "state"],
                                          aliases=["Commune", "Signée le", "Prochaine reconduction", "Volontaires",
                                                   "État"], style=_TOOLTIP_STYLE),
        ).add_to(group)
    return group


def convention_legend(layer: folium.FeatureGroup, states: dict[str, str]) -> Legend:
    return Legend(layer, "Participation citoyenne",
                  [Symbol(CONVENTION_COLOURS[s], label) for s, label in states.items()]
                  + [Symbol(CONTRACT_COLOUR, "Commune d'un CSI", "outline", dash="8 4")])


def contract_layer(shapes: gpd.GeoDataFrame, contracts, name: str = "Contrats de sécurité intégrée"
                   ) -> folium.FeatureGroup:
    """The communes of each CSI, outlined in violet (dashed), the contract's name and end on hover.

    ``contracts``: geo.referents.conventions.ContractRow; ``shapes``: their communes (commune_shapes).
    """
    names: dict[str, list[str]] = {}
    for k in contracts:
        for insee, _ in k.communes:
            names.setdefault(insee, []).append(f"{html_text(k.name)} (jusqu'au {formats.day(k.term.ends_on)})")
    gdf = _display(shapes[shapes.insee.isin(list(names))][["insee", "name", "geometry"]].copy())
    table = gpd.GeoDataFrame({"name": gdf["name"].map(html_text), "contracts": [", ".join(names[i]) for i in gdf.insee]},
                             geometry=gdf.geometry, crs=4326)
    group = folium.FeatureGroup(name=name)
    if len(table):
        folium.GeoJson(
            table.to_json(drop_id=True),
            style_function=lambda f: {"color": CONTRACT_COLOUR, "weight": 3, "dashArray": "8 4", "fill": True,
                                      "fillOpacity": 0},
            highlight_function=lambda f: {"weight": 5},
            tooltip=folium.GeoJsonTooltip(["name", "contracts"], aliases=["Commune", "CSI"], style=_TOOLTIP_STYLE),
        ).add_to(group)
    return group


__all__ = ["CONTRACT_COLOUR", "CONVENTION_COLOURS", "REFERENT_COLOURS", "UNCOVERED_COLOUR", "UNCOVERED_LABEL",
           "bases_layer", "contract_layer", "convention_layer", "convention_legend", "coverage_layer",
           "coverage_legend", "inhabitants", "km", "referent_colours"]
