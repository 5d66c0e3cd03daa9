-- The dispatcher's two narrow queues (issue 6's page-speed benchmark: 400 ms p99 over
-- 1,000,000 cases, because each walked a state's cases in id order looking for the few that
-- qualify). Each index holds only the cases its queue can show, so a report writes neither:
-- the conditions are written exactly as cases::store::Only::sql writes them into the query
-- (a partial index is used only when the query's condition implies the index's).
-- Keep in step with the other backend's folder.
create index case_extension_queue on case_record (state, id) where extension_requested <> 0;
create index case_callback_queue on case_record (state, id) where rating is null and closed_at is not null;
