-- The communes a user may open, by name: every loaded commune (:all, admin and référent), a mayor's own
-- (:mayor), or those of which one of a chief's sectors (:csp_ids, :codes) in force on :today covers more
-- than :share of the area. :only keeps one INSEE code (NULL: all of them).
SELECT c.insee, c.name
FROM commune c
WHERE (CAST(:only AS text) IS NULL OR c.insee = :only)
  AND (CAST(:all AS boolean)
       OR c.insee = CAST(:mayor AS text)
       OR EXISTS (
           SELECT 1
           FROM sector s
           JOIN unnest(CAST(:csp_ids AS integer[]), CAST(:codes AS text[])) AS k (csp_id, code)
             ON k.csp_id = s.csp_id AND k.code = s.code
           WHERE s.valid_during @> CAST(:today AS date) AND ST_Intersects(s.geom, c.geom)
             AND ST_Area(ST_Intersection(s.geom, c.geom)) > :share * ST_Area(c.geom)))
ORDER BY c.name, c.insee
