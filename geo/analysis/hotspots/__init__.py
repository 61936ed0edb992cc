"""Hot spot engine: pure computation on grids and point arrays, no database.

Modules:

- `grid`: square grid anchored at the Lambert-93 origin, scope mask, counts per cell.
- `neighbourhood`: distance-band kernels and window sums on the grid.
- `significance`: the exact test of window counts (the p-values of Gi* and of the emerging
  analysis), Benjamini-Hochberg FDR, ArcGIS-style Gi_Bin classes.
- `gistar`: Getis-Ord Gi* on the grid (convolution) and on irregular units (sparse weights).
- `kde`: quartic kernel density in events per km².
- `mann_kendall`: Mann-Kendall trend test over many series at once.
- `patterns`: the emerging hot and cold spot categories, one rule function each.
- `emerging`: the space-time cube analysis that puts them together.

Every failure on input that makes a statistic undefined is a `HotspotInputError`.
"""

from geo.analysis.hotspots.emerging import Emerging, emerging_hotspots, emerging_hotspots_together
from geo.analysis.hotspots.errors import HotspotInputError
from geo.analysis.hotspots.gistar import GiStar, gistar, gistar_sparse, gistar_together
from geo.analysis.hotspots.grid import Grid, count_points, grid_frame, scope_mask
from geo.analysis.hotspots.kde import Density, default_bandwidth, kde_grid, kde_points
from geo.analysis.hotspots.mann_kendall import MannKendall, mann_kendall
from geo.analysis.hotspots.patterns import CATEGORIES, classify, classify_cell

__all__ = [
    "CATEGORIES", "Density", "Emerging", "GiStar", "Grid", "HotspotInputError", "MannKendall", "classify",
    "classify_cell", "count_points", "default_bandwidth", "emerging_hotspots", "emerging_hotspots_together", "gistar",
    "gistar_sparse", "gistar_together",
    "grid_frame", "kde_grid", "kde_points", "mann_kendall", "scope_mask",
]
