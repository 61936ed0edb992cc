-- A new patrol zone. :geom is WKB in EPSG:2154 (MultiPolygon); :time_slots JSON text;
-- :category the code of the one category it follows, or NULL for every category.
INSERT INTO patrol_zone (csp_id, sector_code, geom, reason, valid_from, valid_to, time_slots, author_id, category_code)
VALUES (:csp, :code, ST_GeomFromWKB(:geom, 2154), :reason, :valid_from, :valid_to,
        CAST(:time_slots AS jsonb), :author, :category)
RETURNING id
