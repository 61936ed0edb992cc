-- The atoms A[c, m] of the mayor's map: occurrences of a commune per local month and
-- square cell of :size metres anchored at the Lambert-93 origin (i = floor(x / size),
-- j = floor(y / size)), every non-empty cell-month, small ones included: the
-- suppression (geo.analysis.disclosure) is done in Python, per month. The month total T[m] is
-- the sum of a month's rows.
-- :insee text, :first date (a month's first day), :stop date (the first day after the
-- last month), :size float, :tz text
SELECT CAST(date_trunc('month', o.occurred_at AT TIME ZONE :tz) AS date) AS month,
       floor(ST_X(o.geom) / :size)::bigint AS i,
       floor(ST_Y(o.geom) / :size)::bigint AS j,
       count(*) AS n
FROM occurrence o
WHERE o.commune_insee = :insee
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < (CAST(:stop AS date)::timestamp AT TIME ZONE :tz)
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
