-- The sector versions valid on :day (sector.valid_during, migration 0008),
-- geometry as WKB in EPSG:2154. The one "sector valid on a day" query of the analyses, the sector page and
-- the patrol zones (geo.analysis.scopes). Each filter applies when it is not NULL:
-- :csp_id integer, :csp text (the CSP's name), :code text, :keys text[] ('csp_id:code' of a user's sectors;
-- an empty array: no sector, fail closed). :with_geom boolean: false leaves the geometry out (NULL), for the
-- lists that need names only (a page's menu).
SELECT s.id, s.csp_id, c.name AS csp_name, s.code, s.name,
       CASE WHEN CAST(:with_geom AS boolean) THEN ST_AsBinary(s.geom) END AS geom
FROM sector s
JOIN csp c ON c.id = s.csp_id
WHERE s.valid_during @> CAST(:day AS date)
  AND (CAST(:csp_id AS integer) IS NULL OR s.csp_id = :csp_id)
  AND (CAST(:csp AS text) IS NULL OR c.name = :csp)
  AND (CAST(:code AS text) IS NULL OR s.code = :code)
  AND (CAST(:keys AS text[]) IS NULL OR (s.csp_id || ':' || s.code) = ANY (CAST(:keys AS text[])))
ORDER BY s.csp_id, s.code
