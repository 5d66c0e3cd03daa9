-- Issue 14, finding 1: knowing a resident's ID number proves nothing.
-- * An application's access key (handed out once when it is accepted; only its SHA-256 kept)
--   is what its applicant shows to follow it, rate it or fetch the e-licence it issued.
-- * Wrong keys are counted per application number, in the database so every node sees them.
-- * A notice carries the name given with its application (an online applicant's words never
--   overwrite the registered applicant's name, so a notice cannot print the registered one).
-- * Each applicant gets a random reference: the subject of access records, never the ID number.
alter table service_application add column access_key_hash text;
alter table service_notice add column applicant_name text;
alter table service_applicant add column ref text;
update service_applicant set ref = substr(md5(random()::text || id_number), 1, 16) where ref is null;
create unique index service_applicant_ref on service_applicant (ref);
create table service_key_failure (
    id bigint generated always as identity primary key,
    number text not null,
    at_ms bigint not null
);
create index service_key_failure_number on service_key_failure (number, at_ms);
-- A licence's readers include approvers deciding on an application that attaches it.
create index service_material_licence on service_material (licence_number);
