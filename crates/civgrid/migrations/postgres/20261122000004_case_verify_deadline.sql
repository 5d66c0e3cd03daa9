-- When the latest feedback must be verified by (按时核查率); set at each feedback.
alter table case_record add column verify_deadline text;
create index case_filed on case_record (filed_at);
