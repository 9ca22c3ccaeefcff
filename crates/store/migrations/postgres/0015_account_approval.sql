-- 三员分立 for accounts created over the network: the system administrator proposes a role and a
-- scope, the security administrator approves them. Until then the account has no role and no
-- scope (NULL), so nothing can treat it as a business account by mistake; the proposal waits in
-- the proposed_* columns. A TOTP code is accepted once: totp_last_step keeps the last 30-second
-- step used.
ALTER TABLE accounts
    ALTER COLUMN role DROP NOT NULL,
    ALTER COLUMN scope_kind DROP NOT NULL,
    ALTER COLUMN scope_code DROP NOT NULL,
    ADD COLUMN proposed_role TEXT,
    ADD COLUMN proposed_scope_kind TEXT,
    ADD COLUMN proposed_scope_code TEXT,
    ADD COLUMN proposed_scope_serves TEXT,
    ADD COLUMN proposed_by TEXT,
    ADD COLUMN approved_by TEXT,
    ADD COLUMN approved_at TIMESTAMPTZ,
    ADD COLUMN totp_last_step BIGINT;
