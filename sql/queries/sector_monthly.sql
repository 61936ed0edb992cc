-- Occurrences per sector code of a CSP and local month, from :first (a month's first day)
-- to the day before :stop. Every version of a sector code counts.
-- :csp text, :first date, :stop date, :tz text
SELECT v.code, CAST(date_trunc('month', o.occurred_at AT TIME ZONE :tz) AS date) AS month, count(*) AS n
FROM occurrence o
JOIN sector v ON v.id = o.sector_id
JOIN csp c ON c.id = v.csp_id
WHERE c.name = :csp
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < (CAST(:stop AS date)::timestamp AT TIME ZONE :tz)
GROUP BY 1, 2
