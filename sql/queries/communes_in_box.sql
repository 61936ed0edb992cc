-- Communes meeting a box given in Lambert-93 metres.
SELECT insee, name, population, geom
FROM commune
WHERE geom && ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 2154)
ORDER BY insee
