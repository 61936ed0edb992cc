"""A mayor's alerts: the notifications sent for his town and his opt-in per category (issue 16 item 5)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("alerts", __name__)
