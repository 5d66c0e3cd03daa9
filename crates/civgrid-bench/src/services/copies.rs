//! The copies: concluded applications copied inside the database, moved by whole weeks.

use super::*;

/// Days of history: the replay's and the copies'.
pub(super) const YEAR_DAYS: i64 = 364;

/// Whole weeks from `earlier` to `later` (SQL timestamps), rounded down, at least 0.
pub(super) fn weeks_between_sql(b: Backend, later: &str, earlier: &str) -> String {
    match b {
        Backend::Sqlite => format!("max(0, cast((julianday({later}) - julianday({earlier})) / 7 as integer))"),
        Backend::Postgres => format!(
            "greatest(0, floor(extract(epoch from (({later})::timestamptz - ({earlier})::timestamptz)) / 604800)::bigint)"
        ),
    }
}

/// Weeks copy `k.n` of a template is moved back (negative: forward), as SQL: pseudo-random
/// among the whole weeks that keep its first event (`first`) after `start` and its last
/// (`last`) before `horizon`.
pub(super) fn spread_sql(b: Backend, id: &str, first: &str, last: &str, start: &str, horizon: &str) -> String {
    let back = weeks_between_sql(b, first, &format!("'{start}'"));
    let forward = weeks_between_sql(b, &format!("'{horizon}'"), last);
    format!("({} - {forward})", copy_hash_sql(id, &format!("{back} + {forward} + 1")))
}

/// Copies the concluded applications (with their visits, materials, steps and ratings) and every
/// notice (with its visit) inside the database until there are `target` applications. Copy *k*
/// of application *a* gets id `a + k·stride` and is moved by whole weeks, a pseudo-random
/// function of (a, k), within the year before `now`, concluded at least four days before it
/// (its ratings come later); a notice and its visit, or a visit that led to nothing, likewise.
pub(super) async fn copy_applications(db: &Db, target: usize, now: DateTime<Utc>) -> anyhow::Result<()> {
    let b = db.backend();
    let scalar = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await }
    };
    let total = scalar("select count(*) from service_application").await?;
    let concluded = scalar("select count(*) from service_application where concluded_at is not null").await?;
    let apps = scalar("select coalesce(max(id), 0) from service_application").await?;
    let visits = scalar("select coalesce(max(id), 0) from service_visit").await?;
    let ratings = scalar("select coalesce(max(id), 0) from service_rating").await?;
    anyhow::ensure!(concluded > 0, "no concluded applications to copy");
    let copies = ((target as i64 - total).max(0) + concluded - 1) / concluded;
    anyhow::ensure!(copies < 100_000, "{copies} copies: replay more templates (notice numbers hold 5 digits of copy)");
    let overriding = if b == Backend::Postgres { "overriding system value" } else { "" };
    let start = stored_time(now - Duration::days(YEAR_DAYS));
    let (settled, done) = (stored_time(now - Duration::days(4)), stored_time(now - Duration::days(1)));
    let wa = spread_sql(b, "a.id", "a.accepted_at", "a.concluded_at", &start, &settled);
    let wv = spread_sql(b, "v.id", "v.at", "v.at", &start, &done);
    let wn = spread_sql(b, "coalesce(n.visit_id, 0)", "n.issued_at", "n.issued_at", &start, &done);
    let copied = "a.id <= {apps} and a.concluded_at is not null".replace("{apps}", &apps.to_string());
    let numbered =
        |prefix: &str, at: &str, id: &str| format!("'{prefix}' || {}", number_sql(b, &local_day_sql(b, at), id));
    let visit_columns = "id, number, window_code, clerk, clerk_department, applicant_id, item_code, outcome, at";
    let visit_copy = |w: &str, from: &str| {
        let at = shifted_sql(b, "v.at", w);
        let id = format!("(v.id + k.n * {visits})");
        format!(
            "insert into service_visit ({visit_columns}) {overriding}
             select {id}, {number}, v.window_code, v.clerk, v.clerk_department, v.applicant_id, v.item_code,
               v.outcome, {at} {from}",
            number = numbered("CK", &at, &id),
        )
    };
    // Visits that led to an application move with it; the others (notices, refusals) by copy.
    let app_visits = visit_copy(
        &wa,
        &format!("from service_application a join service_visit v on v.id = a.visit_id cross join k where {copied}"),
    );
    let other_visits = visit_copy(
        &wv,
        &format!("from service_visit v cross join k where v.id <= {visits} and v.outcome <> 'accepted'"),
    );
    let copy_marker = match b {
        Backend::Sqlite => "printf('%05d', k.n)".to_owned(),
        Backend::Postgres => "lpad(k.n::text, 5, '0')".to_owned(),
    };
    // Notice numbers are 18 characters: the prefix, `x` (never in a random number), the copy, and
    // the last ten characters of the template's number.
    let notices = format!(
        "insert into service_notice (number, kind, item_code, item_version, applicant_id, channel, window_code,
           visit_id, missing, reason, issued_by, issued_at)
         select substr(n.number, 1, 2) || 'x' || {copy_marker} || substr(n.number, 9), n.kind, n.item_code,
           n.item_version, n.applicant_id, n.channel, n.window_code, n.visit_id + k.n * {visits}, n.missing,
           n.reason, n.issued_by, {issued}
         from service_notice n cross join k where substr(n.number, 3, 1) <> 'x'",
        issued = shifted_sql(b, "n.issued_at", &wn),
    );
    let shift = |col: &str| shifted_sql(b, &format!("a.{col}"), &wa);
    let app_id = format!("(a.id + k.n * {apps})");
    let applications = format!(
        "insert into service_application (id, number, item_code, item_version, department_code, applicant_id,
           applicant_name, contact, channel, window_code, clerk, visit_id, state, current_step, max_visits,
           accepted_at, deadline, legal_deadline, warned_at, overdue_at, suspended_at, suspended_step,
           concluded_at, licence_number, updated_at, handling_working_hours) {overriding}
         select {app_id}, {number}, a.item_code, a.item_version, a.department_code, a.applicant_id,
           a.applicant_name, a.contact, a.channel, a.window_code, a.clerk, a.visit_id + k.n * {visits}, a.state,
           a.current_step, a.max_visits, {accepted}, {deadline}, {legal}, {warned}, {overdue}, {suspended},
           a.suspended_step, {concluded}, a.licence_number, {updated}, a.handling_working_hours
         from service_application a cross join k where {copied}",
        number = numbered("BJ", &shift("accepted_at"), &app_id),
        accepted = shift("accepted_at"),
        deadline = shift("deadline"),
        legal = shift("legal_deadline"),
        warned = shift("warned_at"),
        overdue = shift("overdue_at"),
        suspended = shift("suspended_at"),
        concluded = shift("concluded_at"),
        updated = shift("updated_at"),
    );
    let materials = format!(
        "insert into service_material (application_id, position, code, name, source, format, size_bytes, sha256,
           content, licence_number, reused_from, applicant_id, created_at)
         select m.application_id + k.n * {apps}, m.position, m.code, m.name, m.source, m.format, m.size_bytes,
           m.sha256, m.content, m.licence_number, m.reused_from, m.applicant_id, {created}
         from service_application a join service_material m on m.application_id = a.id cross join k
         where {copied} order by k.n, m.id",
        created = shifted_sql(b, "m.created_at", &wa),
    );
    let steps = format!(
        "insert into service_step (application_id, step_index, step_name, department_code, state, checklist, note,
           decided_by, decided_at)
         select s.application_id + k.n * {apps}, s.step_index, s.step_name, s.department_code, s.state,
           s.checklist, s.note, s.decided_by, {decided}
         from service_application a join service_step s on s.application_id = a.id cross join k
         where {copied} order by k.n, s.id",
        decided = shifted_sql(b, "s.decided_at", &wa),
    );
    // `c` is the copy (application or visit) whose number the copied rating names.
    let rating_copy = |w: &str, from: &str| {
        format!(
            "insert into service_rating (target_kind, target_ref, applicant_id, grade, comment,
               responsible_department, item_code, window_code, clerk, rated_at, void)
             select r.target_kind, c.number, r.applicant_id, r.grade, r.comment, r.responsible_department,
               r.item_code, r.window_code, r.clerk, {rated}, r.void {from} order by k.n, r.id",
            rated = shifted_sql(b, "r.rated_at", w),
        )
    };
    let app_ratings = rating_copy(
        &wa,
        &format!(
            "from service_application a join service_rating r on r.target_kind = 'application' and r.target_ref = a.number
             cross join k join service_application c on c.id = a.id + k.n * {apps} where {copied} and r.id <= {ratings}"
        ),
    );
    let app_visit_ratings = rating_copy(
        &wa,
        &format!(
            "from service_application a join service_visit v on v.id = a.visit_id
               join service_rating r on r.target_kind = 'visit' and r.target_ref = v.number
             cross join k join service_visit c on c.id = v.id + k.n * {visits} where {copied} and r.id <= {ratings}"
        ),
    );
    let other_visit_ratings = rating_copy(
        &wv,
        &format!(
            "from service_rating r join service_visit v on v.number = r.target_ref
             cross join k join service_visit c on c.id = v.id + k.n * {visits}
             where r.id <= {ratings} and r.target_kind = 'visit' and v.outcome <> 'accepted'"
        ),
    );
    let statements = [
        app_visits,
        other_visits,
        notices,
        applications,
        materials,
        steps,
        app_ratings,
        app_visit_ratings,
        other_visit_ratings,
    ];
    copy_in_batches(db, copies, concluded, "applications", |ks| {
        statements.iter().map(|s| format!("{ks} {s}")).collect()
    })
    .await?;
    advance_identity(db, "service_visit").await?;
    advance_identity(db, "service_application").await?;
    maintain(db).await
}
