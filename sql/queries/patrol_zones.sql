-- Live (not withdrawn) patrol zones a user may see: one by :id, or those of a sector (:csp, :code);
-- newest first. :sectors text[] of 'csp_id:code' the user may see, or NULL for those who see
-- everything: another chief's zone is not found at all, exactly like an unknown one.
SELECT z.id, z.csp_id, z.sector_code, ST_AsBinary(z.geom) AS geom, z.reason, z.valid_from, z.valid_to,
       z.time_slots, z.category_code, z.created_at, z.updated_at,
       coalesce(u.display_name, u.email) AS author,
       ARRAY(SELECT zp.problem_id FROM patrol_zone_problem zp WHERE zp.zone_id = z.id ORDER BY 1) AS problem_ids
FROM patrol_zone z
LEFT JOIN app_user u ON u.id = z.author_id
WHERE z.deleted_at IS NULL
  AND (CAST(:id AS integer) IS NULL OR z.id = :id)
  AND (CAST(:csp AS integer) IS NULL OR (z.csp_id = :csp AND z.sector_code = :code))
  AND (CAST(:sectors AS text[]) IS NULL OR (z.csp_id || ':' || z.sector_code) = ANY (CAST(:sectors AS text[])))
ORDER BY z.created_at DESC, z.id DESC
