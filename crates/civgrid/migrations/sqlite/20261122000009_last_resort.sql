-- Owner of last resort (兜底部门): per area level, the department that takes a component (部件)
-- case whose owner cannot be established, so no case is left without a handler.
create table last_resort_department (
    area_code       text primary key references area (code) on delete cascade,
    department_code text not null references department (code),
    updated_at      text not null,
    updated_by      text not null
);
