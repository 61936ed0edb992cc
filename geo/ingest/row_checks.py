"""Checks of imported rows, done on whole columns at once (a million rows in seconds).

Each check marks the rows it refuses with a reason in English naming the value at
fault; a row can have several reasons. Nothing here writes to the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import CRS, Transformer

from geo.problems.categories import categories, resolve
from geo.territory.projections import METROPOLITAN_SRID

# A point further than this beyond the loaded territory's extent is refused as "far
# outside"; closer ones are kept and flagged as outside every sector.
TERRITORY_MARGIN_M = 20_000

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_FRENCH = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}[:h]\d{2}(:\d{2})?)?$")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_YEAR = re.compile(r"^(\d{4})-|^\d{1,2}/\d{1,2}/(\d{4})")
#: The years a date of a file may have: within what a timestamp of pandas holds (1677 to 2262).
YEARS_ACCEPTED = (1900, 2200)
FRENCH_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")


class Faults:
    """Reasons collected per row position."""

    def __init__(self, size: int):
        self.size = size
        self._reasons: dict[int, list[str]] = {}
        self._excluded = np.zeros(size, dtype=bool)

    @contextlib.contextmanager
    def excluding(self, rows: np.ndarray):
        """Within the block, faults of these rows are not recorded (already refused otherwise)."""
        self._excluded = np.asarray(rows, dtype=bool)
        try:
            yield self
        finally:
            self._excluded = np.zeros(self.size, dtype=bool)

    def add(self, mask: np.ndarray | pd.Series, template: str, *columns) -> None:
        """Refuse the rows of ``mask`` with ``template`` formatted with their values.

        The message is built only for refused rows: a million good rows cost nothing.
        """
        positions = np.flatnonzero(np.asarray(mask, dtype=bool) & ~self._excluded)
        if not len(positions):
            return
        values = [np.asarray(column, dtype=object)[positions] for column in columns]
        for k, position in enumerate(positions):
            message = template.format(*(v[k] for v in values)) if values else template
            self._reasons.setdefault(int(position), []).append(message)

    def bad(self) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[list(self._reasons)] = True
        return mask

    def reasons(self) -> dict[int, str]:
        return {p: "; ".join(r) for p, r in sorted(self._reasons.items())}


@dataclasses.dataclass(frozen=True)
class Territory:
    """Where points may be: an extent in Lambert-93 and how to name it."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    label: str

    @classmethod
    def metropolitan_france(cls) -> "Territory":
        lon0, lat0, lon1, lat1 = CRS.from_epsg(METROPOLITAN_SRID).area_of_use.bounds
        to_l93 = Transformer.from_crs(4326, METROPOLITAN_SRID, always_xy=True)
        xmin, ymin, xmax, ymax = to_l93.transform_bounds(lon0, lat0, lon1, lat1)
        return cls(xmin, ymin, xmax, ymax, "metropolitan France")

    def distance_outside(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Metres from each point to the extent (0 inside)."""
        dx = np.maximum.reduce([self.xmin - x, np.zeros_like(x), x - self.xmax])
        dy = np.maximum.reduce([self.ymin - y, np.zeros_like(y), y - self.ymax])
        return np.hypot(dx, dy)


def text(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.strip()


def check_ids(ids: pd.Series, lines: pd.Series, faults: Faults, where: str) -> None:
    faults.add(ids == "", "missing id")
    named = ids != ""
    duplicated = ids.duplicated(keep="first") & named
    if duplicated.any():
        first_line = lines.groupby(ids).transform("first")
        faults.add(duplicated, "id '{}' already used on " + where + " {}", ids, first_line)


def content_ids(*columns: pd.Series | np.ndarray, keep: np.ndarray) -> tuple[pd.Series, int]:
    """Ids derived from each row's checked content, for files without an id column.

    The id is a hash of the normalised values (category code, UTC time, Lambert-93
    metres to the centimetre, texts) and of the row's rank among identical rows of the
    file: the same file loaded again gives the same ids (it adds nothing), and two
    identical rows stay two events. Rows not in ``keep`` (bad rows) get an empty id.
    Returns the ids and the number of kept rows that repeat an earlier identical row.

    >>> ids, repeated = content_ids(pd.Series(["rodeos", "rodeos", "rodeos"]), pd.Series([1.0, 1.0, 2.0]),
    ...                             keep=np.array([True, True, True]))
    >>> ids[0] != ids[1] != ids[2], repeated, ids[0].startswith("h:")
    (True, 1, True)
    """
    parts = []
    for column in columns:
        series = pd.Series(column)
        if pd.api.types.is_float_dtype(series):
            series = series.round(2)
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        parts.append(series.astype(str).reset_index(drop=True))
    content = parts[0].str.cat(parts[1:], sep="\x1f") if len(parts) > 1 else parts[0]
    rank = content.groupby(content).cumcount()
    keep = pd.Series(np.asarray(keep), index=content.index)
    index = columns[0].index if isinstance(columns[0], pd.Series) else content.index
    ids = pd.Series(["h:" + hashlib.sha256((c + "\x1e" + str(r)).encode()).hexdigest()[:32] if k else ""
                     for c, r, k in zip(content, rank, keep)], index=index)
    repeated = int(((rank > 0) & keep).sum())
    return ids, repeated


def check_categories(names: pd.Series, faults: Faults) -> pd.Series:
    """Category codes for the given names (codes, French labels or aliases)."""
    lookup = {name: resolve(name) for name in names.unique()}
    codes = names.map(lookup)
    faults.add(names == "", "missing category")
    known = ", ".join(c.code for c in categories())
    unknown = codes.isna() & (names != "")
    faults.add(unknown, "unknown category '{}' (known: " + known + ")", names)
    return codes


def to_number(values: pd.Series) -> pd.Series:
    """Numbers from text, accepting a decimal comma ("47,64"); NaN where not a number."""
    if values.str.contains(",", regex=False).any():
        comma = values.str.fullmatch(r"[+-]?\d*,\d+")
        values = values.where(~comma, values.str.replace(",", ".", regex=False))
    try:
        # Fast path: every value is a number (Arrow parses a million in milliseconds).
        return pd.Series(pc.cast(pa.array(values, type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False),
                         index=values.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pd.to_numeric(values, errors="coerce")


def check_coordinates(first: pd.Series, second: pd.Series, names: tuple[str, str], crs: CRS,
                      territory: Territory, faults: Faults) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 x, y of each row from lat/lon or x/y text; faulty rows get NaN.

    ``first``/``second`` are (lat, lon) when ``crs`` is geographic, else (x, y).
    """
    geographic = crs.is_geographic
    a, b = to_number(first), to_number(second)
    missing = (first == "") | (second == "")
    faults.add(missing, f"missing coordinates ({names[0]} or {names[1]} is empty)")
    for raw, number, name in ((first, a, names[0]), (second, b, names[1])):
        # inf, -inf and 1e309 are numbers to Arrow, but no place: refused as NaN is.
        faults.add((raw != "") & ~np.isfinite(number.to_numpy(dtype=float)), name + " '{}' is not a number", raw)
    a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    usable = np.isfinite(a) & np.isfinite(b)
    if geographic:
        lat, lon = a, b
        in_range = usable & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        x, y = _project(lon, lat, in_range, crs)
    else:
        in_range = usable
        x, y = _project(a, b, usable, crs)
    outside = territory.distance_outside(x, y)
    outside[~in_range] = np.inf
    far = usable & (outside > TERRITORY_MARGIN_M)
    # Only far points can have been swapped: project those the other way round.
    swappable = far & ((np.abs(b) <= 90) & (np.abs(a) <= 180) if geographic else far)
    sx, sy = _project(a, b, swappable, crs) if geographic else _project(b, a, swappable, crs)
    swapped = swappable & (territory.distance_outside(sx, sy) <= TERRITORY_MARGIN_M)
    n0, n1 = names
    faults.add(swapped, f"{n0} and {n1} look swapped: ({n0} {{:g}}, {n1} {{:g}}) is in the territory the other way round",
               a, b)
    if geographic:
        bad_range = usable & ~in_range & ~swapped
        faults.add(bad_range, f"{n0} {{:g}} or {n1} {{:g}} is outside -90..90 / -180..180", a, b)
    else:
        bad_range = np.zeros(len(a), dtype=bool)
    km = np.where(np.isfinite(outside), outside / 1000, 0)
    faults.add(far & ~swapped & ~bad_range, f"point ({n0} {{:g}}, {n1} {{:g}}) lies {{:,.0f}} km outside "
               + territory.label, a, b, km)
    good = usable & in_range & ~far
    return np.where(good, x, np.nan), np.where(good, y, np.nan)


def check_shapes(shapes: np.ndarray, source_crs: CRS, territory: Territory, faults: Faults, *, kinds,
                 wrong_kind: str) -> np.ndarray:
    """Each geometry of a vector file in Lambert-93 (None where refused), after the checks of the problem and place
    loaders: of one of ``kinds`` (else ``wrong_kind``, a message with ``{}`` for the kind found), valid, within the
    territory's margin (through a point on its surface)."""
    import geopandas as gpd  # with the vector files only
    import shapely

    found = pd.Series([s.geom_type if s is not None else "" for s in shapes])
    faults.add((found != "") & ~found.isin(kinds), wrong_kind, found)
    usable = found.isin(kinds).to_numpy()
    valid = np.array([bool(s.is_valid) if u else False for s, u in zip(shapes, usable)], dtype=bool)
    reasons = pd.Series([shapely.is_valid_reason(s) if u and not v else "" for s, u, v in zip(shapes, usable, valid)])
    faults.add(usable & ~valid, "geometry is not valid ({})", reasons)
    keep = usable & valid
    projected = np.full(len(shapes), None, dtype=object)
    if keep.any():
        series = gpd.GeoSeries(list(shapes[keep]), crs=source_crs).to_crs(METROPOLITAN_SRID)
        projected[keep] = list(series.values)
        anchors = series.representative_point()
        km = np.zeros(len(shapes))
        km[keep] = territory.distance_outside(anchors.x.to_numpy(), anchors.y.to_numpy()) / 1000
        faults.add(km * 1000 > TERRITORY_MARGIN_M, "the place lies {:,.0f} km outside " + territory.label, km)
    return projected


def _project(first, second, mask, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    x = np.full(len(first), np.nan)
    y = np.full(len(first), np.nan)
    if mask.any():
        transformer = Transformer.from_crs(crs, METROPOLITAN_SRID, always_xy=True)
        px, py = transformer.transform(first[mask], second[mask], errcheck=False)
        x[mask], y[mask] = px, py
    return x, y


def parse_dates(values: pd.Series, tz: str, faults: Faults, now: dt.datetime | None = None) -> pd.Series:
    """UTC timestamps from ISO 8601 or dd/mm/yyyy [HH:MM] text.

    A time without offset is local time in ``tz``. On the night clocks go back, an
    hour that happens twice is read as the first (summer time); a time that does not
    exist because clocks went forward is moved forward by the gap.
    """
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    faults.add(values == "", "missing date")
    iso = values.str.match(_ISO)
    french = values.str.match(_FRENCH)
    # Years a nanosecond timestamp cannot hold (0001-01-01, 9999-12-31) are refused before parsing.
    years = values.str.extract(_YEAR)
    years = pd.to_numeric(years[0].fillna(years[1]), errors="coerce")
    far = (iso | french) & ~years.between(*YEARS_ACCEPTED)
    faults.add(far, f"date '{{}}' is outside the years {YEARS_ACCEPTED[0]} to {YEARS_ACCEPTED[1]}", values)
    shaped = iso | french
    iso, french = iso & ~far, french & ~far
    aware = iso & values.str.contains(_OFFSET)
    if aware.any():
        result[aware] = pd.to_datetime(values[aware], format="ISO8601", utc=True, errors="coerce")
    naive_iso = iso & ~aware
    if naive_iso.any():
        result[naive_iso] = _localize(pd.to_datetime(values[naive_iso], format="ISO8601", errors="coerce"), tz)
    if french.any():
        cleaned = values[french].str.replace("h", ":", regex=False)
        parsed = pd.Series(pd.NaT, index=cleaned.index, dtype="datetime64[ns]")
        for fmt in FRENCH_FORMATS:
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = pd.to_datetime(cleaned[todo], format=fmt, errors="coerce")
        result[french] = _localize(parsed, tz)
    faults.add((iso | french) & result.isna(), "date '{}' does not exist", values)
    faults.add(~shaped & (values != ""), "date '{}' is not ISO 8601 (2024-03-05T21:30) or dd/mm/yyyy [HH:MM]", values)
    now = pd.Timestamp(now or dt.datetime.now(dt.timezone.utc))
    faults.add(result > now + pd.Timedelta(days=1), "date '{}' is in the future", values)
    return result


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    local = naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")
