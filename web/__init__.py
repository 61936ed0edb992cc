"""The Flask web app: ``create_app(test_config)`` builds it (Flask's app-factory pattern)."""

from __future__ import annotations

import os

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app.

    Parameters
    ----------
    test_config : dict, optional
        Settings overriding the defaults, e.g. ``{"DATABASE_URL": ..., "TESTING": True}``.

    Settings
    --------
    DATABASE_URL
        SQLAlchemy URL; default: the environment's DATABASE_URL, else the embedded cluster.
    BASE_TILES_URL
        URL template of a base tile layer (IGN or OSM) where the network allows;
        default none: the map draws commune limits as its background.
    BASE_TILES_ATTRIBUTION
        Attribution text shown with the base tiles.
    SECRET_KEY
        Signs the session cookie; default: a random key per process (set it in production).
    """
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("PSQ_SECRET_KEY") or os.urandom(32),
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        BASE_TILES_URL=os.environ.get("PSQ_BASE_TILES_URL"),
        BASE_TILES_ATTRIBUTION=os.environ.get("PSQ_BASE_TILES_ATTRIBUTION", ""),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.update(test_config)

    from web import db, pages

    db.init_app(app)
    app.register_blueprint(pages.bp)
    return app
