"""Audit requests, the audit page (cameras, hot cells, proposed sites) and the audit file (issue 16 items 2, 3)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audits", __name__)
