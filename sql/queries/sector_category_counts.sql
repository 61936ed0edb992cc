-- Occurrences inside a sector version between two local days (both included), by category.
SELECT o.category_code AS category, count(*)::int AS n
FROM occurrence o, sector s
WHERE s.id = :sector_id AND o.geom && s.geom AND ST_Intersects(o.geom, s.geom)
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE 'Europe/Paris')
  AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE 'Europe/Paris')
GROUP BY o.category_code
