-- The access record (查阅留痕, issue 14): every read of a person's data — a case's reporter and
-- photos, a resident's e-licences, an application's materials, a certificate's content — is
-- written here with who read it, why (the purpose names the endpoint's use), which records, and
-- the request. Rows are only ever inserted; auditors read them back by subject.
create table access_record (
    id           integer primary key autoincrement,
    at           text not null,
    actor        text not null,
    purpose      text not null,
    subject_kind text not null,
    subject      text not null,
    request_id   text
);
create index access_record_subject on access_record (subject_kind, subject, id);
create index access_record_actor on access_record (actor, id);
