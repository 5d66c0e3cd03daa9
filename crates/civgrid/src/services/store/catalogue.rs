//! Service items: every version of the catalogue.

use super::*;

const ITEM_COLUMNS: &str = "code, version, basic_code, definition, created_at, created_by";

fn item_from(r: &AnyRow) -> Result<ServiceItem, sqlx::Error> {
    let definition: String = r.try_get("definition")?;
    let spec: ItemSpec = serde_json::from_str(&definition).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(ServiceItem {
        code: r.try_get("code")?,
        version: r.try_get("version")?,
        basic_code: r.try_get("basic_code")?,
        item_type_name: item_type_name(&spec.item_type).to_owned(),
        spec,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

/// Every item's newest version, read through `ex`: the pool (`db.pool()`) or the caller's
/// transaction (`&mut **tx`).
pub async fn current_items<'e>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any>,
) -> Result<Vec<ServiceItem>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {ITEM_COLUMNS} from service_item i
         where version = (select max(version) from service_item j where j.code = i.code) order by code"
    ))
    .fetch_all(ex)
    .await?;
    rows.iter().map(item_from).collect()
}

pub async fn current_item(tx: &mut Tx<'_>, code: &str) -> Result<Option<ServiceItem>, sqlx::Error> {
    let row =
        sqlx::query(&format!("select {ITEM_COLUMNS} from service_item where code = $1 order by version desc limit 1"))
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?;
    row.as_ref().map(item_from).transpose()
}

pub async fn item_version(tx: &mut Tx<'_>, code: &str, version: i64) -> Result<Option<ServiceItem>, sqlx::Error> {
    let row = sqlx::query(&format!("select {ITEM_COLUMNS} from service_item where code = $1 and version = $2"))
        .bind(code)
        .bind(version)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(item_from).transpose()
}

pub async fn insert_item(tx: &mut Tx<'_>, item: &ServiceItem) -> Result<(), sqlx::Error> {
    let s = &item.spec;
    let definition = serde_json::to_string(s).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query(
        "insert into service_item (code, version, basic_code, item_type, department_code, name, applicant_type,
            legal_limit_days, promised_limit_days, max_visits, definition, active, created_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&item.code)
    .bind(item.version)
    .bind(&item.basic_code)
    .bind(&s.item_type)
    .bind(&s.department_code)
    .bind(&s.name)
    .bind(s.applicant_type.as_str())
    .bind(s.legal_limit_days)
    .bind(s.promised_limit_days)
    .bind(s.max_visits)
    .bind(definition)
    .bind(i64::from(s.active))
    .bind(&item.created_at)
    .bind(&item.created_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `YYYY-MM-DDTHH` of the local (UTC+8) hour of a stored timestamp, in SQL.
pub fn local_hour_sql(dialect: Dialect, expr: &str) -> String {
    dialect.local_time(expr, LocalTime::Hour)
}
