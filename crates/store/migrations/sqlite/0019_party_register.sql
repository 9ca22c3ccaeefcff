-- The party organisation register (党组织台账): each organisation gets the code the city gives it
-- (existing ones are numbered within their county in the order they were created, e.g.
-- 640202000000-P00001), the unit it sits in when it is a unit's own (a school's branch), and a
-- state (撤销 keeps it on record, inactive). Codes are unique by the import's checks.
ALTER TABLE party_orgs ADD COLUMN code TEXT;
ALTER TABLE party_orgs ADD COLUMN unit_id BLOB;
ALTER TABLE party_orgs ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE party_orgs ADD COLUMN updated_at TEXT;
UPDATE party_orgs SET code = r.region_code || '-P' || printf('%05d', r.n)
FROM (SELECT id, region_code, row_number() OVER (PARTITION BY region_code ORDER BY id) AS n
      FROM party_orgs) AS r
WHERE r.id = party_orgs.id AND r.region_code = party_orgs.region_code;
CREATE INDEX party_orgs_code ON party_orgs (code);
