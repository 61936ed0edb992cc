-- Occurrences inside a patrol zone by category, between two local days (both included),
-- counted only inside the user's current sectors: the zone is clipped to them in the query
-- itself (a zone may be drawn a little over a border; what lies beyond is never counted).
-- :id integer, :area WKB (EPSG:2154) of the user's current sectors (geo.patrol.zones.allowed_area,
-- read by sql/queries/sector_on_day.sql) or NULL (no clip, for those who see everything),
-- :tz text, :first date, :last date. A zone that follows one category (category_code) counts it only.
-- A user with no sector gets an empty area, hence no row (fail closed).
WITH mine AS MATERIALIZED (
    SELECT ST_GeomFromWKB(CAST(:area AS bytea), 2154) AS geom
), area AS MATERIALIZED (
    SELECT CASE WHEN (SELECT geom FROM mine) IS NULL THEN z.geom
                ELSE ST_Intersection(z.geom, (SELECT geom FROM mine)) END AS geom,
           z.category_code
    FROM patrol_zone z
    WHERE z.id = :id AND z.deleted_at IS NULL
)
SELECT o.category_code, count(*) AS n
FROM occurrence o, area
WHERE o.geom && area.geom AND ST_Intersects(o.geom, area.geom)
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
  AND (area.category_code IS NULL OR o.category_code = area.category_code)
GROUP BY o.category_code
ORDER BY n DESC, o.category_code
