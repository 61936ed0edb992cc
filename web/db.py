"""The app's database engine, one per app, created on first use."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from geo.db import engine as database


def get_engine() -> Engine:
    app = current_app._get_current_object()
    engine = app.extensions.get("psq_engine")
    if engine is None:
        url = app.config.get("DATABASE_URL")
        # The threaded server runs a thread per request: SQLAlchemy's default pool (5 + 10)
        # would make the 16th concurrent request wait, then fail after 30 s.
        engine = database.create_engine(database.normalize_url(url) if url else None,
                                        pool_size=10, max_overflow=30)
        app.extensions["psq_engine"] = engine
    return engine


def init_app(app: Flask) -> None:
    app.extensions.setdefault("psq_engine", None)
