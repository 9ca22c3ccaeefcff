-- Accounts in bulk (批量开通账号): an account may be the account of a person in the people
-- register (so that a leaver's account is deactivated when the register marks them 离职), may
-- come from a batch the system administrator imported (which the security administrator approves
-- in one action), and may have to change its password at the next login (an initial password
-- handed out on paper, or one an administrator reset).
ALTER TABLE accounts ADD COLUMN person_id BLOB;
ALTER TABLE accounts ADD COLUMN batch TEXT;
ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
CREATE INDEX accounts_person ON accounts (person_id);
CREATE INDEX accounts_batch ON accounts (batch);
