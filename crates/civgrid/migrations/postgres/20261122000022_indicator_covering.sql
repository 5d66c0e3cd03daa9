-- Evaluation indicators (issue 3 benchmark, BENCHMARKS.md): the area and department indexes of
-- 20261122000021 made the database visit the table for every case in scope (a department's
-- year took 0.64 s over 1,000,000 cases on SQLite). Like `case_indicators`, they now carry
-- every column the counts read. Keep in step with the other backend's folder.
drop index case_indicators_area;
drop index case_indicators_department;
create index case_indicators_area on case_record (grid_code, filed_at, lead_department, dispatched_at, handled_at,
    handle_deadline, closed_at, verified_at, verify_deadline, rework_count, return_count, handling_working_hours)
    where filed_at is not null;
create index case_indicators_department on case_record (lead_department, filed_at, grid_code, dispatched_at,
    handled_at, handle_deadline, closed_at, verified_at, verify_deadline, rework_count, return_count,
    handling_working_hours)
    where filed_at is not null;
