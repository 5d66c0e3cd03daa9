-- The case loop (GB/T 30428): the catalogue of event/component classes (versioned), the
-- working-day calendar, cases, their departments and every transition. Keep in step with
-- ../postgres/.

-- One row per version of a minor class. A case records the version it was filed under, so
-- later edits to limits or departments never rewrite history.
create table case_class (
    code                   text not null,
    version                integer not null,
    kind                   text not null check (kind in ('event', 'component')),
    major_code             text not null,
    major_name             text not null,
    minor_name             text not null,
    filing_criteria        text not null,
    closing_criteria       text not null,
    time_limit             integer not null check (time_limit > 0),
    time_limit_unit        text not null check (time_limit_unit in ('working_hours', 'working_days')),
    department_code        text not null references department (code),
    duplicate_radius_m     real not null,
    duplicate_window_hours integer not null,
    self_handle_allowed    integer not null check (self_handle_allowed in (0, 1)),
    active                 integer not null check (active in (0, 1)),
    created_at             text not null,
    created_by             text not null,
    primary key (code, version)
);

-- Exceptions to the Monday–Friday week: public holidays and make-up working days (调休).
create table calendar_day (
    day        text primary key,
    kind       text not null check (kind in ('holiday', 'workday')),
    note       text not null,
    updated_at text not null
);

-- "case" is an SQL keyword, hence case_record.
create table case_record (
    id               integer primary key autoincrement,
    number           text not null unique,
    state            text not null,
    channel          text not null,
    description      text not null,
    class_code       text,
    class_version    integer,
    lng              real,
    lat              real,
    grid_code        text references grid (code),
    address          text,
    reporter_name    text,
    reporter_contact text,
    lead_department  text references department (code),
    handle_deadline  text,
    escalation_level integer not null default 0,
    supervised       integer not null default 0,
    extension_requested integer not null default 0,
    duplicate_of     integer references case_record (id),
    rating           integer,
    rework_count     integer not null default 0,
    return_count     integer not null default 0,
    reported_by      text not null,
    idempotency_key  text unique,
    created_at       text not null,
    updated_at       text not null,
    filed_at         text,
    dispatched_at    text,
    handled_at       text,
    verified_at      text,
    closed_at        text
);
create index case_state on case_record (state);
create index case_grid on case_record (grid_code);
create index case_lead on case_record (lead_department);
create index case_created on case_record (created_at);

-- Lead (主办) and assisting (协办) departments of a case.
create table case_department (
    case_id         integer not null references case_record (id) on delete cascade,
    department_code text not null references department (code),
    role            text not null check (role in ('lead', 'assist')),
    primary key (case_id, department_code)
);

-- Every transition: who, in which role, when, from which state to which, why, with what.
create table case_transition (
    id          integer primary key autoincrement,
    case_id     integer not null references case_record (id) on delete cascade,
    at          text not null,
    actor       text not null,
    role        text not null,
    action      text not null,
    from_state  text,
    to_state    text not null,
    note        text,
    attachments text
);
create index case_transition_case on case_transition (case_id, id);
