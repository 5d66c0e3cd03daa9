-- The notification outbox: messages to reporters are written in the same transaction as the
-- case change that causes them, then delivered by a worker on any node with retries and
-- back-off. A row is claimed for a short lease so that two nodes never send it twice at once.
create table outbox (
    id              bigint generated always as identity primary key,
    case_id         bigint references case_record (id),
    channel         text not null check (channel in ('email', 'webhook')),
    recipient       text not null,
    subject         text not null,
    body            text not null,
    attempts        bigint not null default 0,
    next_attempt_at text not null,
    claimed_until   text,
    sent_at         text,
    failed_at       text,
    last_error      text,
    created_at      text not null
);
create index outbox_due on outbox (sent_at, failed_at, next_attempt_at);
