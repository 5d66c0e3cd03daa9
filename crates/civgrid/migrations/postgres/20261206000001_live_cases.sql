-- The command map draws the newest live cases (GET /api/v1/map/cases, issue 6's page-speed
-- benchmark). Only live cases are in this index, with every column the map reads, newest read
-- first: the map reads the cases it draws from the index alone and never visits the table or a
-- closed case, however many the database holds. The state list is written exactly as
-- cases::store::LIVE_STATES writes it into the query (the planner uses a partial index only
-- when the query's condition is the index's). Keep in step with the other backend's folder.
create index case_live on case_record (id, state, grid_code, lng, lat, class_code, handle_deadline, supervised,
    number, created_at, updated_at)
    where state in ('received', 'accepted', 'filed', 'returned', 'dispatched', 'handling', 'suspended', 'handled', 'rework', 'verified');

-- A queue reads one state in id order (cases::store::list_visible_page). SQLite's `case_state`
-- index already holds each state's cases in id order (its entries end with the rowid);
-- PostgreSQL's needs the id named, or a queue of old cases walks the table's primary key.
create index case_state_id on case_record (state, id);
-- It serves every lookup `case_state` (state) served; one index fewer to write per report.
drop index case_state;
