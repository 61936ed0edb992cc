-- Occurrences inside a patrol zone by category, between two local days (both included).
SELECT o.category_code, count(*) AS n
FROM occurrence o
JOIN patrol_zone z ON z.id = :id AND ST_Intersects(o.geom, z.geom)
WHERE o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
GROUP BY o.category_code
ORDER BY n DESC, o.category_code
