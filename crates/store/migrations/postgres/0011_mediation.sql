-- People's mediation (人民调解): the organisations and mediators on the region tree, dispute cases
-- with their parties and their timeline (the case file, 卷宗), and transfer slips (转办单).
-- Cases grow with the work: the county leads their primary keys, as events do. What the law asks
-- of an agreement and who has signed it are kept as JSON beside the columns queries use.

CREATE TABLE mediation_orgs (
    id UUID PRIMARY KEY,
    region_code TEXT NOT NULL,             -- where it sits: community, township or county
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX mediation_orgs_region ON mediation_orgs (region_code);

CREATE TABLE mediators (
    id UUID PRIMARY KEY,
    org_id UUID NOT NULL REFERENCES mediation_orgs (id),
    region_code TEXT NOT NULL,             -- the organisation's region, for scope checks
    name TEXT NOT NULL,
    title TEXT NOT NULL,                   -- '' or a title such as 金牌调解员
    specialities TEXT NOT NULL,            -- space-separated dispute types
    legal_adviser BIGINT NOT NULL,         -- 1: a village or community legal adviser (法律顾问)
    account_id UUID,                       -- the mediator's login, when they have one
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX mediators_org ON mediators (org_id);
CREATE INDEX mediators_account ON mediators (account_id);

CREATE TABLE mediation_cases (
    region_code TEXT NOT NULL,             -- county
    id UUID NOT NULL,
    code TEXT NOT NULL UNIQUE,             -- M + county 6 digits + YYYYMMDD + 4-digit daily sequence
    event_id UUID,
    dispute_type TEXT NOT NULL,
    source TEXT NOT NULL,
    origin TEXT NOT NULL,
    facts TEXT NOT NULL,
    points TEXT NOT NULL,
    amount_cents BIGINT,
    risk_level TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    org_id UUID NOT NULL,
    lead_mediator UUID NOT NULL,
    mediators TEXT NOT NULL,               -- space-separated ids, the lead included
    state TEXT NOT NULL,                   -- open | closed
    outcome TEXT,
    outcome_note TEXT,
    agreement TEXT,                        -- JSON: the written agreement's contents
    signatures TEXT NOT NULL,              -- JSON: who signed the written agreement, and when
    agreed_at TIMESTAMPTZ,
    effective_at TIMESTAMPTZ,
    confirmation TEXT NOT NULL,            -- none | applied | granted | refused (司法确认)
    performed_at TIMESTAMPTZ,
    deadline_at TIMESTAMPTZ NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, id)
);
CREATE UNIQUE INDEX mediation_cases_id ON mediation_cases (id);
CREATE INDEX mediation_cases_grid ON mediation_cases (grid_code, opened_at);
CREATE INDEX mediation_cases_ended ON mediation_cases (ended_at);
CREATE INDEX mediation_cases_opened ON mediation_cases (opened_at);
CREATE INDEX mediation_cases_event ON mediation_cases (event_id);

CREATE TABLE case_parties (
    region_code TEXT NOT NULL,
    case_id UUID NOT NULL,
    seq BIGINT NOT NULL,                   -- 1, 2, …: how the agreement's signatures name them
    kind TEXT NOT NULL,                    -- person | organisation
    side TEXT NOT NULL,                    -- applicant | respondent | other
    name TEXT NOT NULL,
    id_number_enc TEXT,
    id_number_idx TEXT,
    phone_enc TEXT,
    address TEXT,
    PRIMARY KEY (region_code, case_id, seq)
);

CREATE TABLE case_entries (
    region_code TEXT NOT NULL,
    case_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,                    -- opened, session, agreement, signature, outcome, …
    body TEXT NOT NULL,                    -- JSON, personal identifiers never included
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (region_code, case_id, seq)
);

CREATE TABLE transfer_slips (
    id UUID PRIMARY KEY,
    region_code TEXT NOT NULL,             -- the sender's county
    case_id UUID,
    from_org UUID NOT NULL,
    to_org UUID,                           -- another mediation organisation …
    to_department UUID,                    -- … or a department (court, petitions, …)
    reason TEXT NOT NULL,
    receipt_due_at TIMESTAMPTZ NOT NULL,
    reply_due_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ,
    received_by TEXT,
    replied_at TIMESTAMPTZ,
    reply TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX transfer_slips_case ON transfer_slips (case_id);
CREATE INDEX transfer_slips_to_org ON transfer_slips (to_org, created_at);
CREATE INDEX transfer_slips_to_department ON transfer_slips (to_department, created_at);
