"""Pages of the GPO workflow (gpo_file)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("gpo_file", __name__)
