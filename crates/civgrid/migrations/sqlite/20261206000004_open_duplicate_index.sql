-- Duplicate suggestions (a new report's, and the desk's for every queued case) look only at
-- open cases of one class inside a small box. `case_duplicate` held every case ever reported,
-- so at 1,000,000 cases each look walked its class's box over all the years and visited the
-- table to test each entry's time and state. This index holds only open cases, with every
-- column the looks read (the rowid is the id; `state` too, as SQLite still tests the looks'
-- state condition on the entry): a look never visits the table or a closed case, however many
-- the database holds. The condition is written exactly as cases::store writes it
-- into both looks (a partial index is used only when the query's condition implies the
-- index's). Keep in step with the other backend's folder.
create index case_duplicate_open on case_record (class_code, lat, lng, created_at, number, grid_code, state)
    where state not in ('refused', 'merged', 'closed');
drop index case_duplicate;
