-- DBSCAN clusters (ST_ClusterDBSCAN in Lambert-93) of the occurrences inside a sector version
-- between two local days, with the convex hull of each as WKB. ORDER BY in the window: DBSCAN
-- gives a border point to the first cluster reaching it, so a fixed order makes it repeatable.
WITH pts AS (
    SELECT o.id, o.geom FROM occurrence o, sector s
    WHERE s.id = :sector_id AND o.geom && s.geom AND ST_Intersects(o.geom, s.geom)
      AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE 'Europe/Paris')
      AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE 'Europe/Paris')
      AND (CAST(:category AS text) IS NULL OR o.category_code = :category)
), clustered AS (
    SELECT geom, ST_ClusterDBSCAN(geom, eps => :eps, minpoints => :minpoints) OVER (ORDER BY id) AS cid FROM pts
)
SELECT cid + 1 AS cluster_id, count(*)::int AS occurrences, ST_AsBinary(ST_ConvexHull(ST_Collect(geom))) AS hull
FROM clustered WHERE cid IS NOT NULL GROUP BY cid ORDER BY cid
