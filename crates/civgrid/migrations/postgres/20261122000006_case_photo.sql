-- Photos attached to cases (before/after evidence). Stored in the database, not on a node's
-- disk, so every node can serve them.
create table case_photo (
    id           bigint generated always as identity primary key,
    case_id      bigint not null references case_record (id) on delete cascade,
    content_type text not null,
    bytes        bytea not null,
    sha256       text not null,
    size         bigint not null,
    uploaded_by  text not null,
    created_at   text not null
);
create index case_photo_case on case_photo (case_id);
