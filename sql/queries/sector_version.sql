-- The version of sector :code of CSP :csp (name) valid on :day, its geometry as WKB in EPSG:2154.
SELECT s.id, s.csp_id, c.name AS csp_name, s.code, s.name, s.chief, ST_AsBinary(s.geom) AS geom
FROM sector s
JOIN csp c ON c.id = s.csp_id
WHERE c.name = :csp AND s.code = :code AND s.valid_from <= :day AND (s.valid_to IS NULL OR s.valid_to > :day)
