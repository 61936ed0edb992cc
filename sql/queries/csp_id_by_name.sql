-- The id of the CSP named :csp (NULL when there is none).
SELECT id FROM csp WHERE name = :csp
