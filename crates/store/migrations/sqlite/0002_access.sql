-- Accounts, sessions, API tokens, login throttling, the hash-chained audit trail, and encrypted
-- personal identifiers of people. Flags are integers (0/1) so both backends decode them alike.

CREATE TABLE accounts (
    id BLOB PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_kind TEXT NOT NULL,          -- place | department
    scope_code TEXT NOT NULL,          -- region or grid code, or department id
    scope_serves TEXT,                 -- for a department: the region it serves
    password_hash TEXT NOT NULL,       -- Argon2id, PHC string
    totp_secret TEXT,                  -- SM4-GCM ciphertext of the base32 secret
    totp_enabled INTEGER NOT NULL DEFAULT 0,
    recovery_codes TEXT,               -- JSON array of SHA-256 digests of unused codes
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,          -- SHA-256 of the cookie value
    account_id BLOB NOT NULL REFERENCES accounts (id),
    csrf_token TEXT NOT NULL,
    second_factor_done INTEGER NOT NULL,
    ip TEXT,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    account_id BLOB NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,   -- SHA-256 of the token
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE login_attempts (
    ip TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,           -- 1, 2, 3, … with no gaps
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT,
    ip TEXT,
    action TEXT NOT NULL,
    record_type TEXT,
    record_id TEXT,
    detail TEXT NOT NULL,              -- JSON; personal identifiers only masked
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL                 -- SM3 over the fields above
);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id);

-- One row: the last sequence number and hash. Appends update it first, which serialises writers.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

ALTER TABLE people ADD COLUMN id_number_enc TEXT;
ALTER TABLE people ADD COLUMN id_number_idx TEXT;
ALTER TABLE people ADD COLUMN phone_enc TEXT;
ALTER TABLE people ADD COLUMN phone_idx TEXT;
CREATE INDEX people_id_number_idx ON people (id_number_idx);
CREATE INDEX people_phone_idx ON people (phone_idx);
