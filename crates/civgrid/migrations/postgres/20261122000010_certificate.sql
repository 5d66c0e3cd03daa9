-- Certificates and e-licences issued as verifiable bundles (issue 4). `content` is the
-- canonical JSON the issuer signed and the log committed to; revocation is itself logged.
create table certificate (
    number          text primary key,
    type            text not null,
    subject_id      text not null,
    content         text not null,
    signature       text not null,
    department_code text not null references department (code),
    issued_by       text not null,
    issued_at       text not null,
    revoked_at      text,
    revoked_by      text,
    revoke_reason   text
);
create index certificate_subject on certificate (subject_id);
