-- Every CSP with the number of its sectors valid on :day.
SELECT c.name, c.zone, count(s.id) AS sectors
FROM csp c
LEFT JOIN sector s ON s.csp_id = c.id AND s.valid_from <= :day AND (s.valid_to IS NULL OR s.valid_to > :day)
GROUP BY c.id
ORDER BY c.name
