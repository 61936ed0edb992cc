"""The Flask web app: ``create_app(test_config)`` builds it (Flask's app-factory pattern)."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


_ORIGIN = re.compile(r"https?://(\*\.)?[a-z0-9.-]+(:[0-9]+)?")


def tile_origin(url: str | None) -> str | None:
    """The origin (for the CSP's img-src) of a base tile URL template; None for none or a path of this site.

    Leaflet's ``{s}`` subdomain becomes the CSP wildcard. Anything that cannot be named
    as one origin is refused rather than widened.

    >>> tile_origin("https://{s}.tuiles.intranet.example/{z}/{x}/{y}.png")
    'https://*.tuiles.intranet.example'
    >>> tile_origin("https://carto.intranet.example/wmts?SERVICE=WMTS&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}")
    'https://carto.intranet.example'
    >>> tile_origin("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png"), tile_origin("/tuiles/{z}/{x}/{y}.png"), tile_origin(None)
    ('http://127.0.0.1:8080', None, None)
    >>> tile_origin("https://tiles.example; script-src *")
    Traceback (most recent call last):
    ...
    ValueError: BASE_TILES_URL names no single origin the Content-Security-Policy can allow: 'https://tiles.example; script-src *'
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    if not parts.scheme and not parts.netloc:
        return None  # tiles served by this app: 'self'
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2].replace('{s}', '*')}".lower()
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(f"BASE_TILES_URL names no single origin the Content-Security-Policy can allow: {url!r}")
    return origin


def _base_map_path(setting: str | None) -> str | None:
    """The base map file: the setting if given (empty: none), else the demo's archive once built.

    >>> _base_map_path(""), _base_map_path("/srv/fonds/plan-ign.pmtiles")
    (None, '/srv/fonds/plan-ign.pmtiles')
    """
    if setting is not None:
        return setting or None
    from geo.settings import DEMO_BASE_MAP

    return str(DEMO_BASE_MAP) if DEMO_BASE_MAP.is_file() else None


def content_security_policy(tiles_url: str | None = None) -> dict[str, str]:
    """The Content-Security-Policy of every response: nothing from outside but the base tiles, if any.

    Scripts: this site's files, and the inline scripts that carry the request's nonce
    (Talisman adds ``'nonce-...'`` to script-src): the map script of each page and the
    inline scripts of folium's header (web/map_parts.py). Without 'unsafe-inline' or
    'unsafe-eval', a script injected through data never runs, even if an escape is forgotten.

    >>> policy = content_security_policy("https://{s}.tuiles.intranet.example/{z}/{x}/{y}.png")
    >>> policy["script-src"], policy["img-src"]
    ("'self'", "'self' data: blob: https://*.tuiles.intranet.example")
    """
    origin = tile_origin(tiles_url)
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        # 'unsafe-inline' for styles only: folium's markup and Leaflet set style attributes and
        # <style> blocks on every map (positions, colours, sizes) and cannot carry a nonce. Styles
        # run no code; what they could leak needs an outside origin, and none is allowed.
        "style-src": "'self' 'unsafe-inline'",
        # data: Leaflet's and the plugins' inline icons; blob: images drawn by the page itself.
        "img-src": "'self' data: blob:" + (f" {origin}" if origin else ""),
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }


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
    BASE_MAP
        Path of the local base map, a PMTiles archive the app serves at ``/fond-de-carte.pmtiles``
        (an IGN or OpenStreetMap extract, or the archive ``psq basemap`` builds from the territory);
        default PSQ_BASE_MAP, else the demo's archive if ``psq demo`` built it; empty: none.
    BASE_MAP_STYLE
        How to draw it: ``psq`` (the archive of ``psq basemap``) or a Protomaps basemap flavour
        (``light``, ``white``, ``grayscale``, ``dark``, ``black``) for an OpenStreetMap extract made
        with the Protomaps tools; default PSQ_BASE_MAP_STYLE, else ``psq``.
    BASE_TILES_URL
        URL template of a raster tile layer of an intranet tile server, instead of BASE_MAP;
        default none. Its origin is the only outside origin of the Content-Security-Policy
        (img-src only).
    BASE_TILES_ATTRIBUTION
        Attribution text shown with the base tiles.
    SECRET_KEY
        Signs the session cookie; default PSQ_SECRET_KEY, else a random key kept in .psq/secret_key
        (every worker process must share it, or a session would end at the next worker).
    SESSION_COOKIE_SECURE
        Send the session cookie over HTTPS only; default from PSQ_SECURE_COOKIES (off,
        for the local demo over plain HTTP; turn it on behind HTTPS).
    PERMANENT_SESSION_LIFETIME
        A session ends after this long without a request (default 8 hours).
    LOGIN_ADDRESS_LIMIT
        Failed logins allowed per client address, e.g. ``20 per 10 minutes`` (the default;
        PSQ_LOGIN_ADDRESS_LIMIT). The limit per account is geo.accounts.users' growing wait.
    API_USER_LIMIT
        JSON requests of ``/api/`` allowed per user, e.g. ``600 per minute`` (the default;
        PSQ_API_USER_LIMIT); vector tiles are not counted.
    RATELIMIT_ENABLED
        Flask-Limiter's switch (default on); every ``RATELIMIT_*`` setting of Flask-Limiter applies.
    """
    # Imported here, not at the top: `psq` (web.cli) imports this package and must start quickly.
    from flask import Flask
    from flask_talisman import Talisman

    from geo import formats
    from geo.db import engine as database
    from geo.errors import PsqError
    from web import navigation

    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("PSQ_SECRET_KEY") or database.local_secret("secret_key"),
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        BASE_MAP=_base_map_path(os.environ.get("PSQ_BASE_MAP")),
        BASE_MAP_STYLE=os.environ.get("PSQ_BASE_MAP_STYLE") or "psq",
        BASE_TILES_URL=os.environ.get("PSQ_BASE_TILES_URL"),
        BASE_TILES_ATTRIBUTION=os.environ.get("PSQ_BASE_TILES_ATTRIBUTION", ""),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_flag(os.environ.get("PSQ_SECURE_COOKIES")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        # The CSRF token lives as long as the session (a map page stays open for hours).
        WTF_CSRF_TIME_LIMIT=None,
        # Bounded input (web/bounds.py): a body of at most 2 MB (a zone of some 50,000 vertices), JSON
        # nested at most 20 levels.
        MAX_CONTENT_LENGTH=int(os.environ.get("PSQ_MAX_BODY_BYTES") or 2 * 1024 * 1024),
        MAX_JSON_DEPTH=20,
        # Rate limits (web/limits.py), in Flask-Limiter's notation: failed logins per client address,
        # JSON requests per user.
        LOGIN_ADDRESS_LIMIT=os.environ.get("PSQ_LOGIN_ADDRESS_LIMIT") or "20 per 10 minutes",
        API_USER_LIMIT=os.environ.get("PSQ_API_USER_LIMIT") or "600 per minute",
    )
    if test_config:
        app.config.update(test_config)

    from web import access, auth, bounds, db, failures, limits
    from web.api import maps as map_api
    from web.pages import (
        alerts,
        assessment,
        audits,
        basemap,
        cameras,
        commune,
        figures,
        gpo,
        gpo_file,
        journal,
        overview,
        problems,
        referents,
        sector,
        territory,
        zones,
    )

    # First of the before_request hooks, so that every page, error pages included, has its nonce.
    # force_https off and the cookie flag from the settings: the demo and the tests serve plain
    # HTTP on 127.0.0.1 and the login must work there; turn PSQ_SECURE_COOKIES on behind HTTPS.
    Talisman(app, force_https=False, session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
             session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
             content_security_policy=content_security_policy(app.config["BASE_TILES_URL"]),
             content_security_policy_nonce_in=["script-src"], frame_options="DENY",
             referrer_policy="same-origin")
    db.init_app(app)
    # Before the login gate (which reads the user from the database): the request id, and French answers
    # for every refusal, 503 without the database, 500 with a reference.
    failures.init_app(app)
    app.before_request(bounds.check_request)
    limits.init_app(app)  # counted before the login gate: an anonymous flood is limited too
    for blueprint in (territory.bp, auth.bp, zones.bp, sector.bp, map_api.bp, commune.bp, overview.bp, basemap.bp,
                      journal.bp, gpo.bp, gpo_file.bp, figures.bp, problems.bp, assessment.bp, referents.bp, audits.bp,
                      alerts.bp, cameras.bp):
        app.register_blueprint(blueprint)
    # French numbers, areas and dates (geo.formats, Babel's fr_FR) in every template.
    app.add_template_filter(formats.day, "date_fr")
    app.add_template_filter(formats.number, "nombre")
    app.add_template_filter(formats.area, "surface")
    app.add_template_filter(formats.moment, "moment_fr")
    app.context_processor(navigation.inject_menu)  # the menu of every page, from the access policy
    auth.login_manager.init_app(app)
    # Login first (anonymous: redirect to /connexion, or 401 under /api/), then the CSRF check
    # of every POST, PUT, PATCH and DELETE (forms and JSON alike).
    app.before_request(access.login_gate)
    auth.csrf.init_app(app)
    app.register_error_handler(403, access.forbidden)
    app.register_error_handler(PsqError, access.refused)
    return app
