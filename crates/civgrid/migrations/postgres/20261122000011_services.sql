-- One-window government services (一门式, issue 5): the versioned item catalogue, applicants
-- (one number across items), window visits, missing-materials and refusal notices,
-- applications with their materials, approval steps and history, ratings (好差评) and the
-- rectification of bad ratings. Times are RFC 3339 UTC text, as everywhere.

-- One version of a service item. `definition` is the whole item (materials, steps, checklist,
-- special steps, fees …) as JSON; the columns beside it are what queries filter on.
create table service_item (
    code                text not null,
    version             bigint not null,
    basic_code          text not null,
    item_type           text not null,
    department_code     text not null references department (code),
    name                text not null,
    applicant_type      text not null check (applicant_type in ('person', 'entity')),
    legal_limit_days    bigint not null,
    promised_limit_days bigint not null,
    max_visits          bigint not null,
    definition          text not null,
    active              bigint not null,
    created_at          text not null,
    created_by          text not null,
    primary key (code, version)
);

-- Whoever applies, by one number: a GB 11643 resident ID or a GB 32100 credit code.
create table service_applicant (
    id_number  text primary key,
    kind       text not null check (kind in ('person', 'entity')),
    name       text not null,
    contact    text,
    created_at text not null,
    updated_at text not null
);

-- A visit to a window (一次一评 rates it).
create table service_visit (
    id               bigint generated always as identity primary key,
    number           text unique,
    window_code      text not null,
    clerk            text not null,
    clerk_department text,
    applicant_id     text not null references service_applicant (id_number),
    item_code        text not null,
    outcome          text not null check (outcome in ('accepted', 'missing_materials', 'refused')),
    at               text not null
);
create index service_visit_at on service_visit (at);

-- 一次性告知 (everything missing, at once) and 不予受理 notices; the number is a random capability.
create table service_notice (
    number         text primary key,
    kind           text not null check (kind in ('missing_materials', 'refusal')),
    item_code      text not null,
    item_version   bigint not null,
    applicant_id   text not null references service_applicant (id_number),
    channel        text not null,
    window_code    text,
    visit_id       bigint references service_visit (id),
    missing        text not null,
    reason         text,
    issued_by      text not null,
    issued_at      text not null
);
create index service_notice_issued on service_notice (issued_at);

create table service_application (
    id               bigint generated always as identity primary key,
    number           text unique,
    item_code        text not null,
    item_version     bigint not null,
    department_code  text not null,
    applicant_id     text not null references service_applicant (id_number),
    applicant_name   text not null,
    contact          text,
    channel          text not null check (channel in ('window', 'online')),
    window_code      text,
    clerk            text,
    visit_id         bigint references service_visit (id),
    state            text not null check (state in ('in_review', 'suspended', 'approved', 'rejected')),
    current_step     bigint not null,
    max_visits       bigint not null,
    accepted_at      text not null,
    deadline         text not null,
    legal_deadline   text not null,
    warned_at        text,
    overdue_at       text,
    suspended_at     text,
    suspended_step   text,
    concluded_at     text,
    licence_number   text,
    updated_at       text not null,
    foreign key (item_code, item_version) references service_item (code, version)
);
create index service_application_applicant on service_application (applicant_id);
create index service_application_accepted on service_application (accepted_at);
create index service_application_state on service_application (state, deadline);

-- The materials of an application: submitted, attached from the e-licence library, or reused
-- from an earlier application (`reused_from`).
create table service_material (
    id             bigint generated always as identity primary key,
    application_id bigint not null references service_application (id),
    position       bigint not null,
    code           text not null,
    name           text not null,
    source         text not null check (source in ('submitted', 'paper', 'licence', 'earlier')),
    format         text,
    size_bytes     bigint,
    sha256         text,
    content        bytea,
    licence_number text,
    reused_from    bigint references service_material (id),
    applicant_id   text not null,
    created_at     text not null
);
create index service_material_reuse on service_material (applicant_id, code);
create index service_material_application on service_material (application_id);

-- Approval steps: one row per step and department; departments of one step approve in parallel.
create table service_step (
    id              bigint generated always as identity primary key,
    application_id  bigint not null references service_application (id),
    step_index      bigint not null,
    step_name       text not null,
    department_code text not null,
    state           text not null check (state in ('waiting', 'pending', 'approved', 'rejected', 'cancelled')),
    checklist       text,
    note            text,
    decided_by      text,
    decided_at      text,
    unique (application_id, step_index, department_code)
);
create index service_step_department on service_step (department_code, state);

create table service_event (
    id             bigint generated always as identity primary key,
    application_id bigint not null references service_application (id),
    at             text not null,
    actor          text not null,
    action         text not null,
    note           text
);
create index service_event_application on service_event (application_id);

-- 好差评: one rating per application (一事一评) and per window visit (一次一评).
create table service_rating (
    id                     bigint generated always as identity primary key,
    target_kind            text not null check (target_kind in ('application', 'visit')),
    target_ref             text not null,
    applicant_id           text not null,
    grade                  bigint not null check (grade between 1 and 5),
    comment                text,
    responsible_department text,
    item_code              text,
    window_code            text,
    clerk                  text,
    rated_at               text not null,
    void                   bigint not null default 0,
    unique (target_kind, target_ref)
);
create index service_rating_at on service_rating (rated_at);

-- A bad rating's rectification: reply and callback by the responsible unit, the applicant's
-- rating of the fix, and the appeal path for mistaken ratings.
create table service_rectification (
    id                bigint generated always as identity primary key,
    rating_id         bigint not null unique references service_rating (id),
    department_code   text not null,
    state             text not null check (state in ('open', 'replied', 'closed', 'appealed', 'voided')),
    deadline          text not null,
    reply             text,
    callback_note     text,
    replied_by        text,
    replied_at        text,
    feedback_grade    bigint,
    feedback_at       text,
    appeal_reason     text,
    appealed_by       text,
    appealed_at       text,
    appeal_decision   text,
    appeal_decided_by text,
    appeal_decided_at text,
    created_at        text not null,
    updated_at        text not null
);
create index service_rectification_department on service_rectification (department_code, state);
