"""Cameras on a map: their wedges, the hot cells they leave uncovered, and the sites an MCLP proposes.

- :func:`camera_wedges_layer`: each camera's wedge, an existing one solid blue, a proposed
  one dashed orange, with a tooltip (id, owner, bearing, field of view, range, in French);
- :func:`hot_cells_layer`: the hot 200 m cells, red when left uncovered (less than half of
  their occurrences in a wedge), a grey outline when covered;
- :func:`proposal_layer`: the proposed wedges and a numbered marker on each site with what
  it adds ("+12 faits"), in the order of the proposal.

Every text shown goes through :func:`layers.escaping.html_text` (ids come from files).

>>> from geo.referents.cameras import Camera
>>> camera = Camera(1, "<C1>", 990000.0, 6735000.0, 47.64, 6.86, 90.0, 60.0, 50.0, "existing", "commune", "90010")
>>> group = camera_wedges_layer([camera])
>>> len(group._children), camera_text(camera)
(1, 'Caméra &lt;C1&gt; (existante) — Commune — orientée à 90°, champ de 60°, portée 50 m')
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import numpy as np
import shapely

from geo.formats import number
from geo.referents.cameras import CAMERA_LABELS, HotCell, to_wgs84
from layers.escaping import html_text
from layers.zone_layers import number_label

#: status -> Leaflet path options of a wedge.
WEDGE_STYLE = {
    "existing": {"color": "#1d4ed8", "weight": 2, "fillColor": "#1d4ed8", "fillOpacity": 0.2},
    "proposed": {"color": "#ea580c", "weight": 2, "dashArray": "6 4", "fillColor": "#ea580c", "fillOpacity": 0.15},
}
UNCOVERED_STYLE = {"color": "#b2182b", "weight": 1, "fillColor": "#b2182b", "fillOpacity": 0.45}
COVERED_STYLE = {"color": "#6b7280", "weight": 2, "fill": False}


def _latlngs(polygon: shapely.Polygon) -> list[list[float]]:
    """The exterior of a Lambert-93 polygon as Leaflet's [lat, lon] pairs."""
    xy = np.asarray(polygon.exterior.coords)
    lat, lon = to_wgs84(xy[:, 0], xy[:, 1])
    return [[float(a), float(b)] for a, b in zip(lat, lon)]


def camera_text(camera) -> str:
    """The tooltip of a camera, in French (escaped)."""
    owner = CAMERA_LABELS["owner"].get(camera.owner, camera.owner)
    status = CAMERA_LABELS["status"].get(camera.status, camera.status)
    aim = ("vision à 360°" if camera.fov >= 360
           else f"orientée à {number(camera.bearing)}°, champ de {number(camera.fov)}°")
    return html_text(f"Caméra {camera.external_id} ({status}) — {owner} — {aim}, "
                     f"portée {number(camera.range_m)} m")


def camera_wedges_layer(cameras: Sequence, name: str = "Caméras") -> folium.FeatureGroup:
    """The wedges of ``cameras`` (geo.referents.cameras.Camera), existing ones solid blue, proposed ones dashed
    orange."""
    group = folium.FeatureGroup(name=name)
    for camera in cameras:
        style = WEDGE_STYLE.get(camera.status, WEDGE_STYLE["existing"])
        folium.Polygon(_latlngs(camera.wedge()), tooltip=folium.Tooltip(camera_text(camera)), **style).add_to(group)
    return group


def hot_cells_layer(cells: Sequence[HotCell], name: str = "Points chauds et couverture") -> folium.FeatureGroup:
    """The hot cells: red when left uncovered, a grey outline when covered, each with its counts."""
    group = folium.FeatureGroup(name=name)
    for cell in cells:
        state = "peu couvert" if cell.uncovered else "couvert"
        text = html_text(f"Point chaud : {number(cell.occurrences)} faits, dont {number(cell.covered)} dans le "
                         f"champ d'une caméra ({state})")
        style = UNCOVERED_STYLE if cell.uncovered else COVERED_STYLE
        folium.Polygon(_latlngs(cell.square()), tooltip=folium.Tooltip(text), **style).add_to(group)
    return group


def proposal_layer(proposal, name: str = "Sites proposés") -> folium.FeatureGroup:
    """The proposed cameras of a geo.referents.siting.Proposal: their wedges (dashed orange) and a numbered marker
    on each site with its gain, in the proposal's order."""
    group = folium.FeatureGroup(name=name)
    for n, site in enumerate(proposal.sites, start=1):
        camera = site.camera()
        folium.Polygon(_latlngs(camera.wedge()), tooltip=folium.Tooltip(camera_text(camera)),
                       **WEDGE_STYLE["proposed"]).add_to(group)
        gain = f"+{number(site.gain)} fait{'s' if site.gain > 1 else ''}"
        marker = folium.CircleMarker([site.lat, site.lon], radius=6, color="#ea580c", fill=True, fill_opacity=1,
                                     tooltip=number_label(f"{n}. {gain}"))
        marker.add_to(group)
    return group


__all__ = ["COVERED_STYLE", "UNCOVERED_STYLE", "WEDGE_STYLE", "camera_text", "camera_wedges_layer",
           "hot_cells_layer", "proposal_layer"]
