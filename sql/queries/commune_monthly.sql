-- Occurrences of a commune per category and local month, from :first (a month's first
-- day) to the day before :stop (the first day after the last month).
-- :insee text, :first date, :stop date, :tz text
SELECT o.category_code AS category,
       CAST(date_trunc('month', o.occurred_at AT TIME ZONE :tz) AS date) AS month,
       count(*) AS n
FROM occurrence o
WHERE o.commune_insee = :insee
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < (CAST(:stop AS date)::timestamp AT TIME ZONE :tz)
GROUP BY 1, 2
ORDER BY 1, 2
