-- Occurrence counts in 200 m cells (anchored at the Lambert-93 origin, as the hotspot grid)
-- inside sector version :sector_id and a lon/lat box, between two local days (both included),
-- as one GeoJSON FeatureCollection in lon/lat. Only cells with at least one occurrence.
-- `o.geom && area` first: the GiST index (occurrence_geom_idx) cuts the scan to the view; the area is
-- MATERIALIZED so that the intersection is computed once, not once per row.
WITH box AS (
    SELECT ST_Transform(ST_MakeEnvelope(:lon0, :lat0, :lon1, :lat1, 4326), 2154) AS geom
), area AS MATERIALIZED (
    SELECT ST_Intersection(s.geom, box.geom) AS geom FROM sector s, box WHERE s.id = :sector_id
), counted AS (
    SELECT floor(ST_X(o.geom) / :cell)::int AS i, floor(ST_Y(o.geom) / :cell)::int AS j, count(*)::int AS n
    FROM occurrence o, area
    WHERE o.geom && area.geom AND ST_Intersects(o.geom, area.geom)
      AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
      AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
      AND (CAST(:category AS text) IS NULL OR o.category_code = :category)
    GROUP BY 1, 2
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'properties', json_build_object('i', i, 'j', j, 'count', n),
        'geometry', ST_AsGeoJSON(ST_Transform(
            ST_MakeEnvelope(i * :cell, j * :cell, (i + 1) * :cell, (j + 1) * :cell, 2154), 4326), 6)::json
    ) ORDER BY i, j), '[]'::json)
)::text
FROM counted
