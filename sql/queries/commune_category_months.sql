-- The atoms B[g, m] of the mayor's charts: occurrences of a commune per category and
-- local month, every non-empty category-month, small ones included: the suppression
-- (geo.analysis.disclosure) is done in Python, per month. The month total T[m] is the sum of a
-- month's rows (the same occurrences as commune_cell_months).
-- :insee text, :first date (a month's first day), :stop date (the first day after the
-- last month), :tz text
SELECT CAST(date_trunc('month', o.occurred_at AT TIME ZONE :tz) AS date) AS month,
       o.category_code AS category,
       count(*) AS n
FROM occurrence o
WHERE o.commune_insee = :insee
  AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
  AND o.occurred_at < (CAST(:stop AS date)::timestamp AT TIME ZONE :tz)
GROUP BY 1, 2
ORDER BY 1, 2
