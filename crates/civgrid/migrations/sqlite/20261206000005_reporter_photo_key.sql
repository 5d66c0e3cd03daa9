-- A citizen who reports without signing in is given a key (once, in the answer to the report)
-- to attach photos to that case from the portal for a day. Only the key's SHA-256 (hex) is
-- kept; null for reports made with a session, which attach photos with the session instead.
alter table case_record add column reporter_photo_key text;
