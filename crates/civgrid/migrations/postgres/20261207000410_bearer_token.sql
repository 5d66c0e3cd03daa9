-- Issue 15: one bearer-token mechanism. Staff API tokens (api_token) and Open311 client keys
-- (open311_key) were two tables doing one thing: a secret shown once, stored as its SHA-256
-- (hex of the token text, the same function for both), live until revoked or expired. They
-- move into one table, kind beside each row. Ids stay counted per kind (the key of a row is
-- kind and id), so every id an administrator, a script or the change record holds still names
-- the same token, and the hashes move unchanged, so deployed tokens and keys keep working.
-- Keep in step with ../sqlite/.

create table bearer_token (
    kind       text not null check (kind in ('api_token', 'open311_key')),
    id         bigint not null,
    name       text not null,
    token_hash text not null unique,
    -- The account an API token acts as; an Open311 key acts as no account.
    staff_id   bigint references staff (id) on delete cascade,
    created_at text not null,
    -- Null: does not expire (Open311 keys live until revoked).
    expires_ms bigint,
    revoked_at text,
    primary key (kind, id),
    check ((kind = 'api_token') = (staff_id is not null))
);
create index bearer_token_staff on bearer_token (staff_id);

insert into bearer_token (kind, id, name, token_hash, staff_id, created_at, expires_ms, revoked_at)
    select 'api_token', id, name, token_hash, staff_id, created_at, expires_ms, revoked_at from api_token;
insert into bearer_token (kind, id, name, token_hash, staff_id, created_at, expires_ms, revoked_at)
    select 'open311_key', id, name, key_hash, null, created_at, null, revoked_at from open311_key;

drop table api_token;
drop table open311_key;
