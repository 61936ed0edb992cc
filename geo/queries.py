"""Named SQL queries kept as files in sql/queries/ (one query per file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa

QUERIES_DIR = Path(__file__).resolve().parent.parent / "sql" / "queries"


@cache
def named_query(name: str) -> sa.TextClause:
    """The query of sql/queries/NAME.sql as a SQLAlchemy text clause.

    >>> "FROM sector" in named_query("sectors_as_of").text
    True
    """
    return sa.text((QUERIES_DIR / f"{name}.sql").read_text())
