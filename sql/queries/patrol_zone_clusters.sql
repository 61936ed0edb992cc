-- DBSCAN clusters of the occurrences of an area (WKB, EPSG:2154) over a period, with their hulls.
-- ORDER BY in the window: a border point goes to the first cluster reaching it, so a
-- fixed input order makes the result repeatable (DESIGN.md section 5).
WITH pts AS (
    SELECT id, geom FROM occurrence
    WHERE ST_Intersects(geom, ST_GeomFromWKB(:scope, 2154))
      AND occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
      AND occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
), clustered AS (
    SELECT geom, ST_ClusterDBSCAN(geom, eps => :eps, minpoints => :minpoints) OVER (ORDER BY id) AS cid
    FROM pts
)
SELECT cid, count(*) AS n, ST_AsBinary(ST_ConvexHull(ST_Collect(geom))) AS hull
FROM clustered
WHERE cid IS NOT NULL
GROUP BY cid
ORDER BY n DESC, cid
