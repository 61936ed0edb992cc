-- Insert the staged occurrences of one import, attributed in one set-based pass:
-- the sector version valid on the occurrence's local day (:tz) and its CSP, the
-- commune and its EPCI, the problem it belongs to. A point whose 200 m cell lies
-- wholly inside a sector (or commune) gets it by an index lookup; only the others
-- need a point-in-polygon test on the subdivided parts. Points on a border shared by
-- two sectors go to the one with the smaller code, so that attribution is repeatable.
-- Already loaded (source, external_id) pairs are skipped: re-imports add nothing.
-- Returns the rows written and, of those, the ones outside every sector.
WITH staged AS (
    SELECT st.*, ST_SetSRID(ST_MakePoint(st.x, st.y), 2154) AS geom,
           (st.occurred_at AT TIME ZONE :tz)::date AS local_day,
           floor(st.x / 200)::integer AS i, floor(st.y / 200)::integer AS j
    FROM occurrence_staging st
), inserted AS (
    INSERT INTO occurrence (source, external_id, category_code, occurred_at, geom, description, address,
                            problem_id, sector_id, commune_insee, csp_id, epci_siren, import_id)
    SELECT :source, s.external_id, s.category, s.occurred_at, s.geom, s.description, s.address,
           p.id, coalesce(by_cell.id, by_shape.id), coalesce(commune_cell.insee, commune_shape.insee),
           coalesce(by_cell.csp_id, by_shape.csp_id), c.epci_siren, :batch
    FROM staged s
    LEFT JOIN LATERAL (
        SELECT sc.id, sc.csp_id FROM sector_cell cell JOIN sector sc ON sc.id = cell.sector_id
        WHERE cell.i = s.i AND cell.j = s.j
          AND sc.valid_during @> s.local_day
        ORDER BY sc.code LIMIT 1
    ) by_cell ON true
    LEFT JOIN LATERAL (
        SELECT sc.id, sc.csp_id FROM sector_part sp JOIN sector sc ON sc.id = sp.sector_id
        WHERE by_cell.id IS NULL AND ST_Intersects(sp.geom, s.geom)
          AND sc.valid_during @> s.local_day
        ORDER BY sc.code LIMIT 1
    ) by_shape ON true
    LEFT JOIN LATERAL (
        SELECT cell.insee FROM commune_cell cell WHERE cell.i = s.i AND cell.j = s.j ORDER BY cell.insee LIMIT 1
    ) commune_cell ON true
    LEFT JOIN LATERAL (
        SELECT cp.insee FROM commune_part cp
        WHERE commune_cell.insee IS NULL AND ST_Intersects(cp.geom, s.geom)
        ORDER BY cp.insee LIMIT 1
    ) commune_shape ON true
    LEFT JOIN commune c ON c.insee = coalesce(commune_cell.insee, commune_shape.insee)
    LEFT JOIN problem p ON p.source = :source AND p.external_id = s.problem_external_id
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING sector_id
)
SELECT count(*) AS written, count(*) FILTER (WHERE sector_id IS NULL) AS outside
FROM inserted
