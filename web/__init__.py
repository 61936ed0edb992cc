"""The Flask web app: ``create_app(test_config)`` builds it (Flask's app-factory pattern)."""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def french_date(value: dt.date | str | None) -> str:
    """A date (or its ISO text, as in the JSON of zones) as the French read it; ``""`` for None.

    >>> french_date("2026-11-01"), french_date(dt.date(2027, 3, 31)), french_date(None)
    ('01/11/2026', '31/03/2027', '')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


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
    SESSION_COOKIE_SECURE
        Send the session cookie over HTTPS only; default from PSQ_SECURE_COOKIES (off,
        for the local demo over plain HTTP; turn it on behind HTTPS).
    PERMANENT_SESSION_LIFETIME
        A session ends after this long without a request (default 8 hours).
    """
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("PSQ_SECRET_KEY") or os.urandom(32),
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        BASE_TILES_URL=os.environ.get("PSQ_BASE_TILES_URL"),
        BASE_TILES_ATTRIBUTION=os.environ.get("PSQ_BASE_TILES_ATTRIBUTION", ""),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_flag(os.environ.get("PSQ_SECURE_COOKIES")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        # The CSRF token lives as long as the session (a map page stays open for hours).
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)

    from web import access, auth, db, pages

    db.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(auth.bp)
    from web import zones  # patrol zones: pages and API

    app.register_blueprint(zones.bp)
    from web import api, sector_pages

    app.register_blueprint(sector_pages.bp)
    app.register_blueprint(api.bp)
    from web import mayor_pages, overview
    app.register_blueprint(mayor_pages.bp)
    app.register_blueprint(overview.bp)
    app.add_template_filter(french_date, "date_fr")
    auth.login_manager.init_app(app)
    # Login first (anonymous: redirect to /connexion, or 401 under /api/), then the CSRF check
    # of every POST, PUT, PATCH and DELETE (forms and JSON alike).
    app.before_request(access.login_gate)
    auth.csrf.init_app(app)
    app.register_error_handler(403, access.forbidden)
    return app
