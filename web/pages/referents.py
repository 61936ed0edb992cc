"""The référents' coverage map, the conventions and security contracts (issue 16 items 1 and 4)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("referents", __name__)
