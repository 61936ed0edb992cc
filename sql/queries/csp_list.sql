-- Every CSP with the number of its sectors valid on :day.
SELECT c.name, c.zone, count(s.id) AS sectors
FROM csp c
LEFT JOIN sector s ON s.csp_id = c.id AND s.valid_during @> CAST(:day AS date)
GROUP BY c.id
ORDER BY c.name
