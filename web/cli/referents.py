"""``psq load referents`` and ``psq load conventions`` (issue 16 items 1 and 4), added to the ``load`` group."""

from __future__ import annotations

LOAD_COMMANDS: list = []
