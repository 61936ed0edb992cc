"""analysis: see DESIGN.md section 2.

- `hotspots`: the pure numpy engine (grids, Gi*, density, emerging categories), no database;
- `scopes`: the sectors valid on a day (the one query ``sector_on_day.sql``) and the scopes of a run;
- `points`: the occurrences of a scope and a period, as arrays;
- `methods`: Gi*, density, emerging categories and DBSCAN on a scope's points, one path each,
  for every caller below and for the patrol zones;
- `sector_view`: the statistics of the sector chief's page (:func:`geo.analysis.sector_view.analyse`);
- `runs`: the stored runs of ``psq hotspots``;
- `commune_figures` and `disclosure`: the mayor's figures and their disclosure control.
"""
