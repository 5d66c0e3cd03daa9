-- Service statistics over a year of a busy district (issue 5 benchmark, BENCHMARKS.md): reading
-- the period's applications, materials, notices and ratings and aggregating them per query took
-- 1.3–1.8 s for a year of only 20,000 applications on SQLite, and the handling time was a
-- calendar walk per application. Statistics are now kept per local hour, day and month as the
-- records are written, and a query sums months, days and hours, reading only the records of the
-- partial hours at its ends. Keep in step with the other backend's folder.

-- Working hours from acceptance to conclusion, stored by the conclusion (as case_record's
-- handling_working_hours is by the feedback).
alter table service_application add column handling_working_hours real;

-- The counts of one grouping's key over one local (UTC+8) hour (`period` YYYY-MM-DDTHH), and
-- summed, its day (YYYY-MM-DD) and month (YYYY-MM):
-- applications by their acceptance time (a concluded one counted where it was accepted),
-- notices by their issue time, ratings by their rating time. `department` is the record's
-- department as `by=department` keys it, so that one department's statistics read only its rows;
-- the window and clerk groupings also keep rows over all departments (`department` = '*'),
-- since a window serves every department. Written in the transaction of the record they count
-- (services/statistics.rs), rebuilt from the records when service_stat_state says so.
create table service_stat (
    dimension        text not null check (dimension in ('item', 'department', 'window', 'clerk')),
    grain            text not null check (grain in ('hour', 'day', 'month')),
    period           text not null,
    group_key        text not null,
    department       text not null,
    accepted         integer not null default 0,
    online           integer not null default 0,
    concluded        integer not null default 0,
    approved         integer not null default 0,
    rejected         integer not null default 0,
    on_time          integer not null default 0,
    handling_hours   real not null default 0,
    materials_reused integer not null default 0,
    materials_asked  integer not null default 0,
    visits_saved     integer not null default 0,
    missing_notices  integer not null default 0,
    refusals         integer not null default 0,
    ratings          integer not null default 0,
    bad_ratings      integer not null default 0,
    good_ratings     integer not null default 0,
    primary key (dimension, grain, period, group_key, department)
) without rowid;
create index service_stat_department on service_stat (dimension, department, grain, period);

-- The handling times of the applications counted in the row of service_stat with the same key,
-- as a histogram in hundredths of a working day (the resolution statistics report), for the
-- exact 90th percentile.
create table service_stat_duration (
    dimension  text not null,
    grain      text not null,
    period     text not null,
    group_key  text not null,
    department text not null,
    histogram  blob not null,
    primary key (dimension, grain, period, group_key, department)
);
create index service_stat_duration_department on service_stat_duration (dimension, department, grain, period);

-- built = 0: the rows above must be rebuilt from the records before they are read (a database
-- that already held services when this migration ran, or one filled behind the service's back).
create table service_stat_state (
    id    integer primary key check (id = 1),
    built integer not null
);
insert into service_stat_state (id, built)
select 1, case when exists (select 1 from service_application) or exists (select 1 from service_notice)
                    or exists (select 1 from service_rating) then 0 else 1 end;

-- The statistics count each application's materials by source from the index alone (it
-- replaces the index on application_id, which it begins with).
drop index service_material_application;
create index service_material_application on service_material (application_id, source);

-- Open applications past their deadline are counted at query time (the deadline moves and
-- "past" depends on now): few rows, read by acceptance time without visiting the table.
create index service_application_open on service_application (accepted_at, deadline, item_code, department_code,
    window_code, clerk) where concluded_at is null;
