-- Foundation schema: territory (areas, grids), organisation (departments, staff, roles),
-- authentication (sessions, API tokens, login attempts) and the change record.
-- Conventions: timestamps are UTC RFC 3339 text with milliseconds ("2026-11-22T02:30:00.123Z"),
-- which sorts correctly as text on both backends; flags are INTEGER 0/1 because the sqlx Any
-- driver cannot decode SQLite booleans. Keep this file and ../postgres/ in step.

-- District (6 digits, GB/T 2260), subdistrict (9) and community (12). The parent is implied by
-- the code prefix and stored so that the database itself refuses orphans.
create table area (
    code        text primary key,
    level       text not null check (level in ('district', 'subdistrict', 'community')),
    parent_code text references area (code),
    name        text not null,
    -- GeoJSON outline in the storage datum (GCJ-02); kept for districts so that imports can
    -- refuse grids outside the territory.
    boundary    text,
    created_at  text not null,
    updated_at  text not null
);
create index area_parent on area (parent_code);

-- Unit grid (14 digits, GB/T 30428). Geometry is GeoJSON text in the storage datum (GCJ-02);
-- the bounding box columns let operators query without parsing geometry.
create table grid (
    code           text primary key,
    community_code text not null references area (code),
    name           text not null,
    datum          text not null,
    geometry       text not null,
    area_m2        real not null,
    min_lng        real not null,
    min_lat        real not null,
    max_lng        real not null,
    max_lat        real not null,
    created_at     text not null,
    updated_at     text not null
);
create index grid_community on grid (community_code);

-- Bumped in the same transaction as any change to grid geometry, so every civgrid node sharing
-- the database knows when its in-memory locator is stale.
create table territory_revision (
    id       integer primary key check (id = 1),
    revision integer not null
);
insert into territory_revision (id, revision) values (1, 0);

create table department (
    code       text primary key,
    name       text not null,
    area_code  text not null references area (code),
    created_at text not null,
    updated_at text not null
);

create table staff (
    id              integer primary key autoincrement,
    username        text not null unique,
    display_name    text not null,
    password_hash   text,
    department_code text references department (code),
    active          integer not null default 1 check (active in (0, 1)),
    created_at      text not null,
    updated_at      text not null
);

-- A role is held within an area: the assignment covers that area and everything under it
-- (codes are hierarchical, so "under" is a prefix test).
create table staff_role (
    staff_id  integer not null references staff (id) on delete cascade,
    role      text not null,
    area_code text not null references area (code),
    primary key (staff_id, role, area_code)
);

-- Grid workers assigned to grids; part-time workers (兼职网格员) are marked as such.
create table grid_assignment (
    grid_code  text not null references grid (code) on delete cascade,
    staff_id   integer not null references staff (id) on delete cascade,
    kind       text not null check (kind in ('full_time', 'part_time')),
    created_at text not null,
    primary key (grid_code, staff_id)
);

-- Server-side sessions; only the SHA-256 of the token is stored.
create table session (
    token_hash text primary key,
    staff_id   integer not null references staff (id) on delete cascade,
    created_at text not null,
    expires_at text not null,
    revoked_at text
);
create index session_staff on session (staff_id);

-- API tokens let other systems act as a (usually dedicated) staff account.
create table api_token (
    id         integer primary key autoincrement,
    name       text not null,
    token_hash text not null unique,
    staff_id   integer not null references staff (id) on delete cascade,
    created_at text not null,
    revoked_at text
);

-- Every login attempt, for throttling password guessing across all nodes.
create table login_attempt (
    id        integer primary key autoincrement,
    username  text not null,
    client_ip text not null,
    at_ms     integer not null,
    succeeded integer not null check (succeeded in (0, 1))
);
create index login_attempt_username on login_attempt (username, at_ms);
create index login_attempt_ip on login_attempt (client_ip, at_ms);

-- The change record (留痕): who changed what, when, from which state to which.
create table change_record (
    id          integer primary key autoincrement,
    at          text not null,
    actor       text not null,
    action      text not null,
    entity      text not null,
    entity_id   text not null,
    before_json text,
    after_json  text,
    request_id  text
);
create index change_record_entity on change_record (entity, entity_id);
