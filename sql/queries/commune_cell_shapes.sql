-- The squares of grid cells (i, j) of :size metres anchored at the Lambert-93 origin, as
-- GeoJSON in lon/lat (6 decimals), in the order given.
-- :i bigint[], :j bigint[], :size float
SELECT c.i, c.j,
       ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(c.i * :size, c.j * :size, (c.i + 1) * :size, (c.j + 1) * :size,
                                                 2154), 4326), 6) AS geojson
FROM unnest(CAST(:i AS bigint[]), CAST(:j AS bigint[])) WITH ORDINALITY AS c(i, j, position)
ORDER BY c.position
