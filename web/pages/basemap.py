"""The local base map: ``GET /fond-de-carte.pmtiles``, the PMTiles archive named by the setting ``BASE_MAP``.

protomaps-leaflet reads the archive by HTTP range requests (its header, then the
directories and tiles it needs): Werkzeug's conditional responses answer them with
206 Partial Content, an ETag and Last-Modified. The URL ends in ``.pmtiles``, which is
how protomaps-leaflet tells an archive from a tile template. It is what the territory
pages show (communes, sectors and their limits): the access policy's ``territory.view``,
every logged-in role; nobody anonymous.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from web.access import permission_required
from web.map_parts import base_map_file

bp = Blueprint("basemap", __name__)

#: The media type the PMTiles specification registers.
MEDIA_TYPE = "application/vnd.pmtiles"


@bp.route("/fond-de-carte.pmtiles")
@permission_required("territory.view")
def archive():
    path = base_map_file()
    if path is None:
        abort(404, description="Aucun fond de carte n'est installé (réglage BASE_MAP).")
    response = send_file(path, mimetype=MEDIA_TYPE, conditional=True, etag=True)
    # Not in the browser's HTTP cache: Chromium answers range requests of a cached archive, on the second
    # page that reads it, with "Failed to fetch" now and then (its cache of partial entries). protomaps-
    # leaflet keeps the tiles of a page in memory; a page reads a few kilobytes of ranges again.
    response.headers["Cache-Control"] = "no-store"
    return response
