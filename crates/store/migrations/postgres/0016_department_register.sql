-- The department register (部门台账): every department gets the stable code its city gives it, by
-- which imports find it again, scopes and routing rules name it, and exports write it. Existing
-- rows are numbered within their region in the order they were created (ids are UUIDv7, so by id),
-- e.g. 640202000000-001. A city that already runs keeps these codes: its export carries them, and
-- what it imports again is matched by them.
--
-- The places a department serves (a police station serves certain streets) move into a table of
-- their own. Each existing department serves its region, as before.
ALTER TABLE departments
    ADD COLUMN code TEXT,
    ADD COLUMN active BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE departments d SET code = r.region_code || '-' || lpad(r.n::text, 3, '0')
FROM (SELECT id, region_code, row_number() OVER (PARTITION BY region_code ORDER BY id) AS n
      FROM departments) AS r
WHERE r.id = d.id;
ALTER TABLE departments ALTER COLUMN code SET NOT NULL;
CREATE UNIQUE INDEX departments_code ON departments (code);

CREATE TABLE department_areas (
    department_id UUID NOT NULL REFERENCES departments (id),
    region_code TEXT NOT NULL,         -- a city, county or township the department serves
    PRIMARY KEY (department_id, region_code)
);
CREATE INDEX department_areas_region ON department_areas (region_code);
INSERT INTO department_areas (department_id, region_code) SELECT id, region_code FROM departments;
