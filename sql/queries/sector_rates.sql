-- Per sector of a CSP valid on :day: estimated population (communes' population pro rata
-- of the area covered, as sector_summary.sql), occurrences between two local days
-- (every version of the sector's code counts: occurrences keep the version of their day),
-- and the sector's geometry.
-- :csp text, :day date, :first date, :last date, :tz text
WITH sectors AS (
    SELECT s.id, s.csp_id, s.code, s.name, s.geom
    FROM sector s JOIN csp c ON c.id = s.csp_id
    WHERE c.name = :csp AND s.valid_during @> CAST(:day AS date)
), population AS (
    SELECT s.id,
           coalesce(sum(m.population * ST_Area(ST_Intersection(s.geom, m.geom)) / ST_Area(m.geom)), 0)::bigint
               AS population
    FROM sectors s
    LEFT JOIN commune m ON ST_Intersects(s.geom, m.geom)
         AND ST_Area(ST_Intersection(s.geom, m.geom)) > 0.01 * ST_Area(m.geom)
    GROUP BY s.id
), counts AS (
    SELECT s.id, count(o.id) AS occurrences
    FROM sectors s
    JOIN sector v ON v.csp_id = s.csp_id AND v.code = s.code
    JOIN occurrence o ON o.sector_id = v.id
    WHERE o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
      AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
    GROUP BY s.id
)
SELECT s.code, s.name, p.population, coalesce(n.occurrences, 0) AS occurrences, s.geom
FROM sectors s
JOIN population p ON p.id = s.id
LEFT JOIN counts n ON n.id = s.id
ORDER BY s.code
