-- The problems of a commune known to the GPO, without description (it may hold personal
-- data): title, category, status, dates and the partner organisation that raised it.
-- :insee text, :tz text (the local time zone: status_changed_on is a local day)
SELECT p.id, p.title, p.category_code AS category, p.status, p.reported_on,
       CAST(p.status_changed_at AT TIME ZONE :tz AS date) AS status_changed_on, p.partner
FROM problem p
WHERE p.commune_insee = :insee
ORDER BY (p.status = 'resolu'), p.reported_on DESC, p.id
