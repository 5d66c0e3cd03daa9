-- Issue 14: each transition's ledger entry also commits to the case row it leaves behind
-- (state, class, place, grid, lead department, deadline, rating, duplicate, and a salted digest
-- of what was reported, never the reporter's contact in clear), kept here as canonical JSON so
-- `civgrid audit` recomputes the entry and compares the case's current row with its latest one.
-- NULL on transitions written before this migration (not covered).
alter table case_transition add column case_after text;
