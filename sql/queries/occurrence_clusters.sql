-- DBSCAN clusters (ST_ClusterDBSCAN in Lambert-93 metres) of the occurrences inside an area between two
-- local days (both included), of one category or of all (:category NULL), with the convex hull of each
-- as WKB; clusters numbered from 1. The one DBSCAN query (geo.analysis.methods.dbscan_clusters).
-- :area WKB in EPSG:2154, :first date, :last date, :tz text, :category text or NULL,
-- :eps metres, :minpoints integer, :apart boolean: each category clustered on its own (its code
-- in column category_code; NULL when all are clustered together).
-- ORDER BY in the window: DBSCAN gives a border point to the first cluster reaching it, so a fixed
-- input order makes the result repeatable (DESIGN.md section 5). The area is MATERIALIZED so that
-- its WKB is read once, not once per row.
WITH area AS MATERIALIZED (
    SELECT ST_GeomFromWKB(CAST(:area AS bytea), 2154) AS geom
), pts AS (
    SELECT o.id, o.geom, CASE WHEN CAST(:apart AS boolean) THEN o.category_code END AS category_code
    FROM occurrence o, area
    WHERE o.geom && area.geom AND ST_Intersects(o.geom, area.geom)
      AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
      AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
      AND (CAST(:category AS text) IS NULL OR o.category_code = :category)
), clustered AS (
    SELECT geom, category_code,
           ST_ClusterDBSCAN(geom, eps => :eps, minpoints => :minpoints)
               OVER (PARTITION BY category_code ORDER BY id) AS cid
    FROM pts
)
SELECT (row_number() OVER (ORDER BY category_code NULLS FIRST, cid))::int AS cluster_id, category_code,
       count(*)::int AS occurrences, ST_AsBinary(ST_ConvexHull(ST_Collect(geom))) AS hull
FROM clustered
WHERE cid IS NOT NULL
GROUP BY category_code, cid
ORDER BY category_code NULLS FIRST, cid
