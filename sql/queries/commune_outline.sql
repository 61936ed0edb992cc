-- One commune: INSEE code, name, population and limits (Lambert-93).
-- :insee text
SELECT insee, name, population, geom
FROM commune
WHERE insee = :insee
