-- Failed checks of a reporter's contact when rating a case from the portal (issue 6): a case
-- takes at most a few wrong contacts in a window, so the contact a citizen left cannot be
-- found by trying numbers one after another. Kept in the database so every node counts them.
create table reporter_check_failure (
    id bigint generated always as identity primary key,
    case_id bigint not null references case_record (id),
    at_ms bigint not null
);
create index reporter_check_failure_case on reporter_check_failure (case_id, at_ms);
