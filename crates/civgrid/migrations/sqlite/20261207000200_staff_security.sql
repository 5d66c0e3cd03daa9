-- Issue 14, staff work: sign-in guesses counted atomically, sessions with an idle timeout,
-- expiring API tokens, one-time passwords and accounts with a home area.

-- One counter per throttling key (a username and an address together, a username across
-- addresses, an address across usernames), raised by one upsert before a password is checked,
-- so parallel guesses are counted one after another and cannot all be evaluated.
create table login_throttle (
    key             text primary key,
    window_start_ms integer not null,
    failures        integer not null
);
create index login_throttle_window on login_throttle (window_start_ms);

-- When a session was last used (ms), for the idle timeout; 0 ends sessions opened before.
alter table session add column last_seen_ms integer not null default 0;

-- API tokens expire (at most a year); tokens issued before this get a year from now.
alter table api_token add column expires_ms integer;
update api_token set expires_ms = cast((julianday('now') - 2440587.5) * 86400000 as integer) + 31536000000;

-- A password set by someone else is one-time: the account must change it at next sign-in.
alter table staff add column must_change_password integer not null default 0
    check (must_change_password in (0, 1));

-- The area an account belongs to (whose administrators manage it): its broadest role area,
-- else the district.
alter table staff add column area_code text references area (code);
update staff set area_code = coalesce(
    (select min(r.area_code) from staff_role r where r.staff_id = staff.id),
    (select min(code) from area where level = 'district'));
