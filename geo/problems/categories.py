"""Problem categories: kept as data in data/categories.csv, mirrored in the database.

Each category has a code (``stupefiants``, ``rodeos``...), a French label, a colour and
a default severity weight. Input files may name a category by its code, its label or
one of its aliases, with or without accents and in any case.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import unicodedata
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from geo.settings import DATA_DIR

CATEGORIES_FILE = DATA_DIR / "categories.csv"


@dataclasses.dataclass(frozen=True)
class Category:
    code: str
    label: str
    colour: str
    severity: float
    aliases: tuple[str, ...]


@cache
def categories() -> tuple[Category, ...]:
    """The categories of data/categories.csv, in file order.

    >>> [c.code for c in categories()][:3]
    ['stupefiants', 'rassemblements', 'rodeos']
    """
    with open(CATEGORIES_FILE, encoding="utf-8", newline="") as f:
        return tuple(
            Category(r["code"], r["label"], r["colour"], float(r["severity"]),
                     tuple(a for a in r["aliases"].split("|") if a))
            for r in csv.DictReader(f)
        )


def normalize(text: str) -> str:
    """Lower case, no accents, words separated by one space.

    >>> normalize("  Rodéos  et DEUX-roues ")
    'rodeos et deux roues'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.split(r"[^a-z0-9]+", plain)).strip()


@cache
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for category in categories():
        for name in (category.code, category.label, *category.aliases):
            table[normalize(name)] = category.code
    return table


def resolve(name: str | None) -> str | None:
    """The category code for a code, label or alias; None when unknown.

    >>> resolve("Sécurité routière"), resolve("securite_routiere"), resolve("RODEOS")
    ('securite_routiere', 'securite_routiere', 'rodeos')
    >>> resolve("vol à l'étalage") is None
    True
    """
    if name is None:
        return None
    return _lookup().get(normalize(str(name)))


def sync_categories(conn: Connection) -> None:
    """Make the category table match data/categories.csv (insert or update; never delete,
    since occurrences may refer to a category the file no longer lists)."""
    conn.execute(
        sa.text(
            "INSERT INTO category (code, label, colour, severity, aliases) "
            "VALUES (:code, :label, :colour, :severity, :aliases) "
            "ON CONFLICT (code) DO UPDATE SET label = excluded.label, colour = excluded.colour, "
            "severity = excluded.severity, aliases = excluded.aliases"
        ),
        [dict(dataclasses.asdict(c), aliases=list(c.aliases)) for c in categories()],
    )
