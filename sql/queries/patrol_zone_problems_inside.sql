-- The problems of one category of a sector code (any version of the sector) whose place lies in an
-- area: those a zone made for that category is linked to. :csp integer, :code text, :category text,
-- :geom WKB in EPSG:2154.
SELECT p.id
FROM problem p
JOIN sector s ON s.id = p.sector_id
WHERE s.csp_id = :csp AND s.code = :code AND p.category_code = :category
  AND ST_Intersects(p.geom, ST_GeomFromWKB(:geom, 2154))
ORDER BY p.id
