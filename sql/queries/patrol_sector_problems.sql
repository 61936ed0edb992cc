-- The problems of a sector code of a CSP (any version of the sector), for patrol zones.
-- :csp integer, :code text
SELECT p.id, p.external_id, p.category_code, p.title, p.status
FROM problem p
JOIN sector s ON s.id = p.sector_id
WHERE s.csp_id = :csp AND s.code = :code
ORDER BY p.title, p.id
