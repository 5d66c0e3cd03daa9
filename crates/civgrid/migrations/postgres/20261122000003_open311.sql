-- Open311 GeoReport v2 intake: the API keys third-party apps file service requests with
-- (only the SHA-256 of a key is kept; the key itself is shown once when issued). Which key filed
-- a case is its reporter label (open311:<key name>); its media_url is on the case itself.
-- Keep in step with ../postgres/.

create table open311_key (
    id         bigint generated always as identity primary key,
    name       text not null,
    key_hash   text not null unique,
    created_at text not null,
    revoked_at text
);
