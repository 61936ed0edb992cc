-- Occurrences of a commune between two local days (both included), counted by square
-- cell of :size metres anchored at the Lambert-93 origin (i = floor(x / size),
-- j = floor(y / size)). Cells with fewer than :k occurrences are not returned at all
-- (statistical confidentiality: a mayor sees aggregated figures only).
-- :insee text, :first date, :last date, :size float, :k integer, :tz text
WITH counted AS (
    SELECT floor(ST_X(o.geom) / :size)::bigint AS i,
           floor(ST_Y(o.geom) / :size)::bigint AS j,
           count(*) AS n
    FROM occurrence o
    WHERE o.commune_insee = :insee
      AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
      AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
    GROUP BY 1, 2
    HAVING count(*) >= :k
)
SELECT i, j, n,
       ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(i * :size, j * :size, (i + 1) * :size, (j + 1) * :size, 2154),
                                 4326), 6) AS geojson
FROM counted
ORDER BY i, j
