-- Extent (Lambert-93) of the communes and the sectors loaded, and the départements.
WITH shapes AS (
    SELECT geom FROM commune
    UNION ALL
    SELECT geom FROM sector
), box AS (
    SELECT ST_Extent(geom) AS e FROM shapes
)
SELECT ST_XMin(e) AS xmin, ST_YMin(e) AS ymin, ST_XMax(e) AS xmax, ST_YMax(e) AS ymax,
       (SELECT string_agg(code, ', ' ORDER BY code) FROM departement) AS departements
FROM box
