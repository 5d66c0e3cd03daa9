-- Evaluation indicators over a million cases (issue 3 benchmark, BENCHMARKS.md). Keep in step
-- with the other backend's folder.

-- Working hours from dispatch to the latest feedback, stored by the feedback itself, so that
-- the average handling time is a sum in SQL instead of a calendar walk per case at query
-- time. Rows handled before this column existed stay NULL and are still computed on read.
alter table case_record add column handling_working_hours real;

-- An indicator query reads the cases filed in a period within an area, a department or a
-- person's cases. This index holds every column the counts need, so a period × area query is
-- one range scan of the index and never visits the table; only filed cases are in it, so
-- intake (which files nothing) does not maintain it.
create index case_indicators on case_record (filed_at, grid_code, lead_department, dispatched_at, handled_at,
    handle_deadline, closed_at, verified_at, verify_deadline, rework_count, return_count, handling_working_hours)
    where filed_at is not null;
-- Small areas (a community, a grid) and departments over long periods: start from the scope.
create index case_indicators_area on case_record (grid_code, filed_at) where filed_at is not null;
create index case_indicators_department on case_record (lead_department, filed_at) where filed_at is not null;
