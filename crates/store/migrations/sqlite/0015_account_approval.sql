-- no-transaction
-- 三员分立 for accounts created over the network: the system administrator proposes a role and a
-- scope, the security administrator approves them. Until then the account has no role and no
-- scope (NULL), so nothing can treat it as a business account by mistake; the proposal waits in
-- the proposed_* columns. A TOTP code is accepted once: totp_last_step keeps the last 30-second
-- step used.
--
-- SQLite cannot drop a NOT NULL constraint in place, so the table is rebuilt (the documented
-- twelve-step procedure: foreign keys off outside the transaction, copy, drop, rename). Nothing
-- references an account but by its id, which the copy keeps.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE accounts_new (
    id BLOB PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT,                         -- NULL while awaiting approval
    scope_kind TEXT,                   -- place | department; NULL while awaiting approval
    scope_code TEXT,                   -- region or grid code, or department id
    scope_serves TEXT,                 -- for a department: the region it serves
    password_hash TEXT NOT NULL,       -- Argon2id, PHC string
    totp_secret TEXT,                  -- SM4-GCM ciphertext of the base32 secret
    totp_enabled INTEGER NOT NULL DEFAULT 0,
    recovery_codes TEXT,               -- JSON array of SHA-256 digests of unused codes
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    proposed_role TEXT,                -- what the system administrator asked for
    proposed_scope_kind TEXT,
    proposed_scope_code TEXT,
    proposed_scope_serves TEXT,
    proposed_by TEXT,                  -- the proposing administrator's username
    approved_by TEXT,                  -- the approving security administrator's username
    approved_at TEXT,
    totp_last_step INTEGER             -- the last TOTP step accepted (unix time / 30)
);
INSERT INTO accounts_new (id, username, display_name, role, scope_kind, scope_code, scope_serves, password_hash,
    totp_secret, totp_enabled, recovery_codes, failed_logins, locked_until, active, created_at, updated_at)
SELECT id, username, display_name, role, scope_kind, scope_code, scope_serves, password_hash,
    totp_secret, totp_enabled, recovery_codes, failed_logins, locked_until, active, created_at, updated_at
FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
COMMIT;
PRAGMA foreign_keys = ON;
