-- The problems of a sector version (a point on their surface inside it) reported by :day,
-- in lon/lat GeoJSON, most recent first; :category NULL for all categories.
SELECT p.id, p.category_code, p.title, p.partner, p.status, p.reported_on,
       ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(p.geom, 1), 4326), 6) AS geojson
FROM problem p, sector s
WHERE s.id = :sector_id AND p.geom && s.geom AND ST_Intersects(ST_PointOnSurface(p.geom), s.geom)
  AND p.reported_on <= :day
  AND (CAST(:category AS text) IS NULL OR p.category_code = :category)
ORDER BY p.reported_on DESC, p.id
