"""Named SQL queries kept as files in sql/queries/ (one query per file)."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from geo.settings import SQL_DIR

QUERIES_DIR = SQL_DIR / "queries"


@cache
def named_query(name: str) -> sa.TextClause:
    """The query of sql/queries/NAME.sql as a SQLAlchemy text clause.

    >>> "FROM sector" in named_query("sectors_as_of").text
    True
    """
    return sa.text((QUERIES_DIR / f"{name}.sql").read_text())
