-- The region tree, grids, departments, units, people and the party organisation.
-- Small reference tables (regions, grids, departments) are keyed by their code or id; tables that
-- grow with the work carry the county-level region_code first in their primary key, so a
-- distributed PostgreSQL can shard them by county.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE regions (
    code TEXT PRIMARY KEY,             -- 12-digit statistical division code
    level TEXT NOT NULL,               -- city | county | township | community
    kind TEXT NOT NULL,                -- street | town | township | community | village | ...
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES regions (code),
    geometry TEXT,                     -- GeoJSON geometry, WGS-84
    area_m2 DOUBLE PRECISION,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE grids (
    code TEXT PRIMARY KEY,             -- 15-digit grid code = community code + 3-digit sequence
    community_code TEXT NOT NULL REFERENCES regions (code),
    county_code TEXT NOT NULL,
    name TEXT NOT NULL,
    grid_type TEXT NOT NULL,           -- basic | dedicated
    dedicated_kind TEXT,
    geometry TEXT NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    area_m2 DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX grids_community ON grids (community_code);

CREATE TABLE departments (
    id UUID PRIMARY KEY,               -- UUIDv7
    region_code TEXT NOT NULL REFERENCES regions (code), -- the region it serves
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_id UUID REFERENCES departments (id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX departments_region ON departments (region_code);

CREATE TABLE units (
    region_code TEXT NOT NULL,         -- county
    id UUID NOT NULL,
    kind TEXT NOT NULL,
    domain TEXT NOT NULL,
    name TEXT NOT NULL,
    township_code TEXT,
    grid_code TEXT,
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    address TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, id)
);
CREATE INDEX units_grid ON units (grid_code);

CREATE TABLE people (
    region_code TEXT NOT NULL,         -- county
    id UUID NOT NULL,
    name TEXT NOT NULL,
    employment TEXT NOT NULL,          -- full_time | part_time | volunteer
    home_code TEXT NOT NULL,           -- the region node (township or community) they belong to
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, id)
);

CREATE TABLE grid_team_members (
    region_code TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    person_id UUID NOT NULL,
    role TEXT NOT NULL,                -- grid_leader | grid_worker | community_police | ...
    PRIMARY KEY (region_code, grid_code, person_id, role)
);
CREATE INDEX grid_team_members_grid ON grid_team_members (grid_code);

CREATE TABLE party_orgs (
    region_code TEXT NOT NULL,
    id UUID NOT NULL,
    level TEXT NOT NULL,               -- street_committee | community_committee | grid_branch | building_group | member_household
    name TEXT NOT NULL,
    parent_id UUID,
    node_code TEXT NOT NULL,           -- the township, community or grid it is bound to
    PRIMARY KEY (region_code, id)
);
CREATE INDEX party_orgs_node ON party_orgs (node_code);
