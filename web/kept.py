"""A page's costly part, kept in PostgreSQL for every worker: :func:`geo.db.kept_views.kept` for a request.

What a page shows depends on its parameters, on the data (the key's data versions), and
on what every page's output depends on: the user's scope (row-level security decides
what his connection counts), the app's root URL (the links and assets in the map), the
base map, and the code that renders it (a new release must not serve the maps of the
last one). :func:`kept_view` adds these to the page's parameters, so that no page can
forget one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping

from flask import current_app, request

from geo.db.kept_views import kept
from geo.settings import PROJECT_ROOT
from web.access import current_scope
from web.db import get_db
from web.map_parts import base_map_version

#: What renders a kept view: the code, templates, static files and categories.
RENDERING_FILES = ("geo/**/*.py", "layers/**/*.py", "web/**/*.py", "web/templates/**/*.html", "web/static/**/*.js",
                   "web/static/**/*.css", "data/categories.csv")


@functools.cache
def code_version() -> str:
    """A fingerprint of the files that render the views (path, size, modification time), once per process.

    >>> len(code_version())
    16
    """
    digest = hashlib.sha256()
    for pattern in RENDERING_FILES:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            stat = path.stat()
            digest.update(f"{path.relative_to(PROJECT_ROOT)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def kept_view(kind: str, params: Mapping, compute: Callable[[], dict], *, sector_id: int | None = None,
              commune: str | None = None) -> dict:
    """The kept content of the view ``params`` of the current user, or ``compute()`` kept.

    ``params`` must be JSON-serialisable (dates as ISO text); ``sector_id`` or ``commune``
    is what the content is attributed to. Row-level security keeps the row to the
    user's scope whatever the key holds.
    """
    scope = current_scope()
    config = current_app.config
    view = {**params, "scope": [scope.role, list(scope.sector_keys), scope.commune_insee],
            "root": request.script_root, "tiles": [config["BASE_TILES_URL"], config["BASE_TILES_ATTRIBUTION"], *base_map_version()],
            "code": code_version()}
    return kept(get_db(), kind, view, compute, sector_id=sector_id, commune=commune)
