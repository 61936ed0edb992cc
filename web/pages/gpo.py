"""Pages of the GPO workflow (gpo)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("gpo", __name__)
