-- Occurrences inside a patrol zone by category, between two local days (both included),
-- counted only inside the user's current sectors: the zone is clipped to them in the query
-- itself (a zone may be drawn a little over a border; what lies beyond is never counted).
-- :id integer, :sectors text[] of 'csp_id:code' or NULL (NULL: no clip, for those who see
-- everything), :day date (the sectors valid that day), :tz text, :first date, :last date.
-- A user with no sector gets a NULL area, hence no row (fail closed).
WITH mine AS MATERIALIZED (
    SELECT ST_Union(s.geom) AS geom
    FROM sector s
    WHERE (s.csp_id || ':' || s.code) = ANY (CAST(:sectors AS text[]))
      AND s.valid_from <= :day AND (s.valid_to IS NULL OR s.valid_to > :day)
), area AS MATERIALIZED (
    SELECT CASE WHEN CAST(:sectors AS text[]) IS NULL THEN z.geom
                ELSE ST_Intersection(z.geom, (SELECT geom FROM mine)) END AS geom
    FROM patrol_zone z
    WHERE z.id = :id AND z.deleted_at IS NULL
)
SELECT o.category_code, count(*) AS n
FROM occurrence o, area
WHERE o.geom && area.geom AND ST_Intersects(o.geom, area.geom)
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
GROUP BY o.category_code
ORDER BY n DESC, o.category_code
