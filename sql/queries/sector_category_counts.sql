-- Occurrences inside a sector version between two local days (both included), by category.
-- :sector_id integer, :first date, :last date, :tz text
SELECT o.category_code AS category, count(*)::int AS n
FROM occurrence o, sector s
WHERE s.id = :sector_id AND o.geom && s.geom AND ST_Intersects(o.geom, s.geom)
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
GROUP BY o.category_code
