-- Open311 GeoReport v2 intake: the API keys third-party apps file service requests with
-- (only the SHA-256 of a key is kept; the key itself is shown once when issued), and which key
-- filed which case, with the media_url it sent. Keep in step with ../postgres/.

create table open311_key (
    id         integer primary key autoincrement,
    name       text not null,
    key_hash   text not null unique,
    created_at text not null,
    revoked_at text
);

-- One row per case that arrived through POST /open311/v2/requests.
create table open311_request (
    case_id    integer primary key references case_record (id) on delete cascade,
    key_id     integer not null references open311_key (id),
    media_url  text,
    created_at text not null
);
create index open311_request_key on open311_request (key_id);
