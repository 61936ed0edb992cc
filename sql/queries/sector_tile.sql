-- One Mapbox vector tile (z/x/y, Web Mercator) of the occurrences inside sector version
-- :sector_id between two local days: layer "occurrences", attributes category and month
-- only (never description nor address). The envelope carries the tile's 64/4096 buffer.
WITH tile AS MATERIALIZED (
    SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096), 2154) AS l93
), area AS MATERIALIZED (
    SELECT ST_Intersection(s.geom, tile.l93) AS geom FROM sector s, tile WHERE s.id = :sector_id
), features AS (
    SELECT ST_AsMVTGeom(ST_Transform(o.geom, 3857), tile.merc, 4096, 64, true) AS geom,
           o.category_code AS category,
           to_char(o.occurred_at AT TIME ZONE :tz, 'YYYY-MM') AS month
    FROM occurrence o, area, tile
    WHERE o.geom && area.geom AND ST_Intersects(o.geom, area.geom)
      AND o.occurred_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
      AND o.occurred_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
      AND (CAST(:category AS text) IS NULL OR o.category_code = :category)
)
SELECT ST_AsMVT(features, 'occurrences', 4096, 'geom') FROM features
