-- The union of the current sectors a user may draw patrol zones in, in one CSP.
-- :csp integer, :codes text[] or NULL (NULL: every sector of the CSP), :day date
SELECT ST_AsBinary(ST_Multi(ST_Union(s.geom)))
FROM sector s
WHERE s.csp_id = :csp
  AND (CAST(:codes AS text[]) IS NULL OR s.code = ANY (CAST(:codes AS text[])))
  AND s.valid_from <= :day
  AND (s.valid_to IS NULL OR s.valid_to > :day)
