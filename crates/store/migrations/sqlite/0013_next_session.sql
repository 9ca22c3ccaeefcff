-- The next mediation session a case has scheduled (调解安排), for the mediator's desk.
ALTER TABLE mediation_cases ADD COLUMN next_session_at TEXT;
ALTER TABLE mediation_cases ADD COLUMN next_session_place TEXT;
