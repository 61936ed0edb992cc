-- The sectors valid on a given day (valid_to is exclusive), optionally of one CSP.
-- :day date, :csp text or NULL
SELECT s.code, s.name, c.name AS csp, s.valid_from, s.valid_to, s.chief, s.geom
FROM sector s
JOIN csp c ON c.id = s.csp_id
WHERE s.valid_during @> CAST(:day AS date)
  AND (CAST(:csp AS text) IS NULL OR c.name = :csp)
ORDER BY c.name, s.code
