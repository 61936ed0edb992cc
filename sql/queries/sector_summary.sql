-- The sectors of a CSP valid on :day, with their geodesic area and the communes
-- they cover (a commune counts when at least 1 % of it lies in the sector).
SELECT s.code, s.name,
       ST_Area(ST_Transform(s.geom, 4326)::geography) / 1e6 AS area_km2,
       coalesce(sum(m.population * ST_Area(ST_Intersection(s.geom, m.geom)) / ST_Area(m.geom)), 0)::bigint
           AS population,
       array_remove(array_agg(m.name ORDER BY m.name), NULL) AS communes
FROM sector s
JOIN csp c ON c.id = s.csp_id
LEFT JOIN commune m ON ST_Intersects(s.geom, m.geom)
     AND ST_Area(ST_Intersection(s.geom, m.geom)) > 0.01 * ST_Area(m.geom)
WHERE c.name = :csp AND s.valid_during @> CAST(:day AS date)
GROUP BY s.id
ORDER BY s.code
