-- Evaluation indicators kept as rollups (issue 3 benchmark, BENCHMARKS.md): scanning the cases
-- filed in a period took 0.3 s for a year of the district and 6 s for a year of one person over
-- 1,000,000 cases. A case's counts are now kept per local (UTC+8) day and month of its filing,
-- for every area that holds its grid, its lead department and every person who acted on it, and
-- moved in the transaction that changes the case (cases/rollup.rs). Keep in step with the other
-- backend's folder.

-- The staff member behind each transition (NULL for the platform and the command line), so that
-- a person's cases are found by an integer rather than by matching the actor label: the labels
-- `staff:ID:name`, `token:T:staff:ID:name` and the demo seeder's `system:demo-seed:staff:ID:name`
-- (audit::Actor::staff_id_of reads them the same way).
alter table case_transition add column staff_id integer;
update case_transition
   set staff_id = cast(substr(substr(actor, instr(actor, 'staff:') + 6), 1,
                              instr(substr(actor, instr(actor, 'staff:') + 6), ':') - 1) as integer)
 where actor like 'staff:%:%' or actor like '%:staff:%:%';

-- `scope` is `area:CODE` (for the province, city, district, subdistrict, community and grid
-- prefixes of the case's grid), `department:CODE` (lead department) or `person:STAFF_ID`;
-- `period` is the local day (YYYY-MM-DD) or month (YYYY-MM) the case was filed in. The columns
-- are the numerators and denominators of docs/INDICATORS.md.
create table case_stat (
    scope            text not null,
    grain            text not null check (grain in ('day', 'month')),
    period           text not null,
    filed            integer not null default 0,
    closed           integer not null default 0,
    closed_on_time   integer not null default 0,
    dispatched       integer not null default 0,
    handled          integer not null default 0,
    handled_on_time  integer not null default 0,
    reworked         integer not null default 0,
    dispatched_right integer not null default 0,
    verified         integer not null default 0,
    verified_on_time integer not null default 0,
    handling_hours   real not null default 0,
    handling_spans   integer not null default 0,
    primary key (scope, grain, period)
);

-- built = 0: the rows above must be rebuilt from the records before they are read (a database
-- that already held filed cases when this migration ran, or one filled behind the loop's back).
create table case_stat_state (
    id    integer primary key check (id = 1),
    built integer not null
);
insert into case_stat_state (id, built)
select 1, case when exists (select 1 from case_record where filed_at is not null) then 0 else 1 end;
