-- A link to a photo or video the reporter published elsewhere (Open311 media_url).
alter table case_record add column media_url text;
