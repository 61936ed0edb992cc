-- Change a live patrol zone.
UPDATE patrol_zone
SET geom = ST_GeomFromWKB(:geom, 2154), reason = :reason, valid_from = :valid_from, valid_to = :valid_to,
    time_slots = CAST(:time_slots AS jsonb), category_code = :category, updated_at = now()
WHERE id = :id AND deleted_at IS NULL
