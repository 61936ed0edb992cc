"""The one cartographic style of every map: what each kind of feature looks like and what its legend says.

A reader must never mistake one layer for another (README.md, "Reading the maps"):

- counts (occurrences per cell, per sector) are a sequential fill, ColorBrewer YlOrRd,
  with fixed breaks so that a colour means the same count everywhere;
- Gi* classes are a diverging fill, ColorBrewer RdBu: red for hot, blue for cold;
- recurring places (emerging classes) are outlines with no fill, in hues the counts never
  use, dashed when the class is intermittent: drawn over the counts, they cannot be read
  as counts;
- patrol zones are a thick outline of their own colour, labelled with their number;
- suggested zones are dashed, each its own colour, labelled with the number of the list;
- DBSCAN hulls are thin dashed outlines in their category's colour;
- density is a heat gradient with its own legend.

Every function here returns plain dicts and strings (Leaflet path options, CSS of a legend
swatch, French labels); the layers modules apply them. Nothing is drawn here.
"""

from __future__ import annotations

import dataclasses

from geo.formats import number

# -- legend symbols ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Symbol:
    """How one class looks, for a legend row or a list's swatch: ``kind`` fill, outline or gradient.

    Examples
    --------
    >>> Symbol("#bd0026", "50 faits et plus").swatch_css()
    'background:#bd0026'
    >>> Symbol("#5e3c99", "Point chaud persistant", "outline").swatch_css()
    'background:transparent;border:2px solid #5e3c99'
    >>> Symbol("#8c6bb1", "Point chaud qui diminue", "outline", dash="6 3").swatch_css()
    'background:transparent;border:2px dashed #8c6bb1'
    """

    colour: str
    label: str
    kind: str = "fill"
    dash: str | None = None

    def swatch_css(self) -> str:
        """The inline CSS of the swatch (a small square) that stands for this symbol."""
        if self.kind == "gradient":
            return f"background:linear-gradient(to right,{self.colour});width:4em"
        if self.kind == "outline":
            line = "solid" if not self.dash else "dotted" if self.dash.startswith("2 ") else "dashed"
            return f"background:transparent;border:2px {line} {self.colour}"
        return f"background:{self.colour}"


# -- counts: sequential -------------------------------------------------------------------

#: Cells: (lowest count of the class, colour), ColorBrewer YlOrRd. Fixed breaks, not quantiles
#: of the view: a colour must mean the same count everywhere.
COUNT_CLASSES = ((1, "#ffffb2"), (2, "#fed976"), (5, "#feb24c"), (10, "#fd8d3c"), (20, "#f03b20"), (50, "#bd0026"))
#: Five classes of the same palette for choropleths of rates and of a mayor's cells.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#e2e8f0"
#: Cell counts: a thin dark edge, the fill carries the count.
COUNT_CELL = {"color": "#7f2704", "weight": 0.5, "opacity": 0.6, "fillOpacity": 0.7}


def count_symbols(unit: str = "fait") -> list[Symbol]:
    """The legend rows of :data:`COUNT_CLASSES`.

    >>> [s.label for s in count_symbols()][:3], count_symbols()[-1].label
    (['1 fait', '2 à 4 faits', '5 à 9 faits'], '50 faits et plus')
    """
    rows = []
    for k, (low, colour) in enumerate(COUNT_CLASSES):
        high = COUNT_CLASSES[k + 1][0] - 1 if k + 1 < len(COUNT_CLASSES) else None
        if high is None:
            label = f"{number(low)} {unit}s et plus"
        elif high == low:
            label = f"{number(low)} {unit}" + ("s" if low > 1 else "")
        else:
            label = f"{number(low)} à {number(high)} {unit}s"
        rows.append(Symbol(colour, label))
    return rows


#: Mann-Kendall trend word of a sector or commune -> (colour, French label): diverging, red up, blue down.
TREND = {"hausse": ("#d7301f", "en hausse"), "stable": ("#bdbdbd", "stable"), "baisse": ("#2171b5", "en baisse")}


# -- Gi*: diverging -------------------------------------------------------------------

#: gi_bin -> (colour, label), ColorBrewer RdBu. Only |gi_bin| >= 2 is drawn (95 % with FDR).
GI_BIN = {
    3: ("#b2182b", "Point chaud (99 %)"),
    2: ("#ef8a62", "Point chaud (95 %)"),
    1: ("#fddbc7", "Point chaud (90 %)"),
    -1: ("#d1e5f0", "Point froid (90 %)"),
    -2: ("#67a9cf", "Point froid (95 %)"),
    -3: ("#2166ac", "Point froid (99 %)"),
}


def gi_path(gi_bin: int) -> dict:
    """Leaflet options of a Gi* cell: a fill, no edge."""
    colour = GI_BIN[gi_bin][0]
    return {"color": colour, "weight": 0, "fillColor": colour, "fillOpacity": 0.7}


# -- recurring places: outlines -----------------------------------------------------------------

#: Emerging class -> (colour, French label, dash). Hues the counts never use (magenta, green, purple,
#: black for hot; blues and teal for cold), each hue solid for a lasting class and dashed or dotted for
#: its intermittent or fading sibling. No fill: the counts below stay readable.
EMERGING = {
    "new hot spot": ("#e7298a", "Nouveau point chaud", None),
    "consecutive hot spot": ("#1b7837", "Point chaud consécutif", None),
    "intensifying hot spot": ("#000000", "Point chaud qui s'intensifie", None),
    "persistent hot spot": ("#5e3c99", "Point chaud persistant", None),
    "diminishing hot spot": ("#8c6bb1", "Point chaud qui diminue", "6 3"),
    "sporadic hot spot": ("#e7298a", "Point chaud sporadique", "2 4"),
    "oscillating hot spot": ("#1b7837", "Point chaud oscillant", "8 3 2 3"),
    "historical hot spot": ("#737373", "Ancien point chaud", "4 4"),
    "new cold spot": ("#0571b0", "Nouveau point froid", None),
    "consecutive cold spot": ("#01665e", "Point froid consécutif", None),
    "intensifying cold spot": ("#023858", "Point froid qui s'intensifie", None),
    "persistent cold spot": ("#2166ac", "Point froid persistant", None),
    "diminishing cold spot": ("#74a9cf", "Point froid qui diminue", "6 3"),
    "sporadic cold spot": ("#0571b0", "Point froid sporadique", "2 4"),
    "oscillating cold spot": ("#01665e", "Point froid oscillant", "8 3 2 3"),
    "historical cold spot": ("#969696", "Ancien point froid", "4 4"),
}


def emerging_symbol(category: str) -> Symbol:
    """The legend symbol of an emerging class.

    >>> emerging_symbol("sporadic hot spot")
    Symbol(colour='#e7298a', label='Point chaud sporadique', kind='outline', dash='2 4')
    """
    colour, label, dash = EMERGING[category]
    return Symbol(colour, label, "outline", dash)


def emerging_path(category: str) -> dict:
    """Leaflet options of a recurring cell: its class's outline, an invisible fill (the tooltip still opens)."""
    colour, _, dash = EMERGING[category]
    return {"color": colour, "weight": 3, "opacity": 0.95, "fill": True, "fillOpacity": 0, **(
        {"dashArray": dash} if dash else {})}


def neighbourhood_text(label: str, neighbourhood: int, count: int, weeks: int, category: str | None = None) -> str:
    """The tooltip of a recurring cell: its class comes from its neighbourhood, and says so.

    >>> neighbourhood_text("Point chaud persistant", 1204, 0, 104, "Rassemblements")
    'Rassemblements : point chaud persistant — 1\u202f204 faits dans le voisinage en 104 semaines (0 dans ce carreau)'
    """
    head = f"{category} : {label[0].lower()}{label[1:]}" if category else label
    return (f"{head} — {number(neighbourhood)} fait{'s' if neighbourhood > 1 else ''} dans le voisinage en "
            f"{number(weeks)} semaines ({number(count)} dans ce carreau)")


# -- patrol zones and suggestions -----------------------------------------------------------

#: The colour of saved patrol zones: a blue no other layer uses.
ZONE_COLOUR = "#1d4ed8"
ZONE_SYMBOL = Symbol(ZONE_COLOUR, "Zone de patrouille (avec son numéro)", "outline")


def zone_path() -> dict:
    """Leaflet options of a saved zone: a thick outline, a faint fill."""
    return {"color": ZONE_COLOUR, "weight": 5, "opacity": 1, "fill": True, "fill_color": ZONE_COLOUR,
            "fill_opacity": 0.06}


#: The pane of the zones (:data:`PANES`): above the cell counts, which arrive last.
ZONE_PANE = "psqZones"


#: Suggested zones, each its own colour in the order of the list (ColorBrewer Set1 and Dark2).
SUGGESTION_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#1b9e77",
                      "#666666", "#d95f02")


def suggestion_colour(n: int) -> str:
    """The colour of suggestion number ``n`` (from 1), as on the map and in the list.

    >>> suggestion_colour(1), suggestion_colour(11)
    ('#e41a1c', '#e41a1c')
    """
    return SUGGESTION_COLOURS[(n - 1) % len(SUGGESTION_COLOURS)]


def suggestion_symbol(n: int, label: str = "") -> Symbol:
    """The swatch of suggestion ``n`` in the page's list: its dashed outline.

    >>> suggestion_symbol(2).swatch_css()
    'background:transparent;border:2px dashed #377eb8'
    """
    return Symbol(suggestion_colour(n), label, "outline", "7 4")


def suggestion_path(n: int) -> dict:
    """Leaflet options of suggestion ``n``: dashed, its own colour, a faint fill."""
    colour = suggestion_colour(n)
    return {"color": colour, "weight": 3, "dash_array": "7 4", "fill": True, "fill_color": colour,
            "fill_opacity": 0.08}


# -- clusters, density, territory -------------------------------------------------------------


def cluster_path(colour: str) -> dict:
    """Leaflet options of a DBSCAN hull: a thin dashed outline in its category's colour."""
    return {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.08, "dashArray": "4 3"}


#: Heat gradient of the density layer (viridis): visible over the cream background and the counts.
DENSITY_GRADIENT = {0.2: "#440154", 0.4: "#3b528b", 0.6: "#21918c", 0.8: "#5ec962", 1.0: "#fde725"}
DENSITY_SYMBOL = Symbol(",".join(DENSITY_GRADIENT.values()), "de faible (à gauche) à forte", "gradient")

#: Sector limits on a map: a qualitative palette (ColorBrewer Dark2), outlines with a faint fill.
SECTOR_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
#: Commune limits drawn by the pages (for their tooltips): a grey line; the paper colour is the base map's.
COMMUNE_PATH = {"color": "#6b6b6b", "weight": 1, "fillColor": "#f4f1ea", "fillOpacity": 0}

#: The stacking of every map, above Leaflet's overlay pane (400), where the cell counts are drawn as they
#: arrive (so after everything else): recurring places, then patrol zones, then the base map's names (no
#: clicks), then the problems; tooltips (650) and popups (700) stay above all.
PANES = {"psqTrends": 420, "psqZones": 430, "psqBaseLabels": 440, "psqProblems": 450}

#: The local base map built from the territory (layers.base_map): paper communes, grey limits, dark names
#: with a white halo (readable over the cell counts they are drawn above).
BASE_MAP_STYLE = {"background": "#e8e6df", "commune_fill": "#f7f5ef", "commune_line": "#8d8a80",
                  "sector_line": "#64748b", "commune_text": "#1f2937", "sector_text": "#475569", "halo": "#ffffff"}


__all__ = [
    "BASE_MAP_STYLE", "COMMUNE_PATH", "PANES", "COUNT_CELL", "COUNT_CLASSES", "DENSITY_GRADIENT", "DENSITY_SYMBOL", "EMERGING", "GI_BIN",
    "NO_DATA", "SECTOR_COLOURS", "SEQUENTIAL", "SUGGESTION_COLOURS", "TREND", "Symbol", "ZONE_COLOUR", "ZONE_PANE", "ZONE_SYMBOL",
    "cluster_path", "count_symbols", "emerging_path", "emerging_symbol", "gi_path", "neighbourhood_text",
    "suggestion_colour", "suggestion_path", "suggestion_symbol", "zone_path",
]
