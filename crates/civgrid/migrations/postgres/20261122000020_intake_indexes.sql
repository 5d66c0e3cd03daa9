-- Indexes found by the issue-3 benchmark (BENCHMARKS.md, "Issue 3"). Keep in step with the
-- other backend's folder.

-- Duplicate suggestions at intake look for open cases of the same class inside a small box
-- around the new point. Without this index every report scanned the whole case table (in id
-- order), so intake slowed down as cases accumulated (4.5 ms per report at 31,000 cases).
create index case_duplicate on case_record (class_code, lat, lng);
