"""Numbers, areas and dates as the French write them, the same on every page and in every message.

Babel's fr_FR rules: a decimal comma and a narrow no-break space between thousands
("6 797", "3,8"). The pages' scripts use ``Intl.NumberFormat('fr-FR')``, which writes the
same. One word for a grid cell: "carreau".

Examples
--------
>>> number(6797), number(3.84, 1), area(38_400), area(32_500_000), area(350)
('6\u202f797', '3,8', '3,8\u00a0ha', '32,50\u00a0km²', '350\u00a0m²')
>>> day("2026-11-01"), day(dt.date(2027, 3, 31)), day(None)
('01/11/2026', '31/03/2027', '')
"""

from __future__ import annotations

import datetime as dt

from babel.numbers import format_decimal

LOCALE = "fr_FR"
_NBSP = "\u00a0"  # between a number and its unit


def number(value: float, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals (0: an integer), French style."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def area(m2: float) -> str:
    """An area in the unit a user reads best: m² under a hectare, ha under 10 km², km² above."""
    if m2 < 10_000:
        return f"{number(m2)}{_NBSP}m²"
    if m2 < 10_000_000:
        return f"{number(m2 / 10_000, 1)}{_NBSP}ha"
    return f"{number(m2 / 1e6, 2)}{_NBSP}km²"


def day(value: dt.date | str | None) -> str:
    """A date (or its ISO text) as ``jj/mm/aaaa``; ``""`` for None. The year has its four digits at the ends
    of the calendar too (``strftime`` would write year 1 as ``1``).

    >>> day(dt.date(1, 1, 5)), day("2026-12-02")
    ('05/01/0001', '02/12/2026')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def moment(value: dt.datetime | None) -> str:
    """A time as ``jj/mm/aaaa hh:mm:ss``, in France's local time; ``""`` for None.

    >>> moment(dt.datetime(2026, 12, 2, 7, 5, 9, tzinfo=dt.timezone.utc))
    '02/12/2026 08:05:09'
    """
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    from geo.settings import LOCAL_TZ

    local = value.astimezone(ZoneInfo(LOCAL_TZ))
    return f"{day(local.date())} {local:%H:%M:%S}"


__all__ = ["LOCALE", "area", "day", "moment", "number"]
