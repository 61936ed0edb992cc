-- The union of the current sectors a user may see, optionally in one CSP.
-- :sectors text[] of 'csp_id:code' or NULL (NULL: every sector, for those who see everything),
-- :csp integer or NULL (NULL: every CSP), :day date. No sector: NULL (fail closed).
SELECT ST_AsBinary(ST_Multi(ST_Union(s.geom)))
FROM sector s
WHERE (CAST(:csp AS integer) IS NULL OR s.csp_id = :csp)
  AND (CAST(:sectors AS text[]) IS NULL OR (s.csp_id || ':' || s.code) = ANY (CAST(:sectors AS text[])))
  AND s.valid_from <= :day
  AND (s.valid_to IS NULL OR s.valid_to > :day)
