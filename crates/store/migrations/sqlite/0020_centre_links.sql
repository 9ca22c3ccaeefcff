-- The centre register (中心台账): the departments stationed at a 综治中心 or visiting it on set
-- days (巡诊), and the legal advisers serving a legal-service centre, station or room. A centre is
-- a unit; a member is a department or a person. Keyed by the centre's county first, like every
-- table that grows with the city.
CREATE TABLE centre_links (
    region_code TEXT NOT NULL,         -- the centre's county
    unit_id BLOB NOT NULL,
    member_id BLOB NOT NULL,             -- a department's or a person's id
    kind TEXT NOT NULL,                -- stationed | visiting | adviser
    days TEXT NOT NULL,                -- weekdays, Monday = 1, e.g. "2,4"; empty unless visiting
    PRIMARY KEY (region_code, unit_id, member_id)
);
CREATE INDEX centre_links_member ON centre_links (member_id);
