//! The materials an application carries.

use super::*;

#[derive(Debug, Clone)]
pub struct MaterialRow {
    pub id: i64,
    pub application_id: i64,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub source: String,
    pub format: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub licence_number: Option<String>,
    pub reused_from: Option<i64>,
    pub created_at: String,
}

const MATERIAL_COLUMNS: &str =
    "id, application_id, position, code, name, source, format, size_bytes, sha256, licence_number, reused_from, created_at";

fn material_from(r: &AnyRow) -> Result<MaterialRow, sqlx::Error> {
    Ok(MaterialRow {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        position: r.try_get("position")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        source: r.try_get("source")?,
        format: r.try_get("format")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        licence_number: r.try_get("licence_number")?,
        reused_from: r.try_get("reused_from")?,
        created_at: r.try_get("created_at")?,
    })
}

pub struct NewMaterial<'a> {
    pub position: i64,
    pub code: &'a str,
    pub name: &'a str,
    pub source: &'a str,
    pub format: Option<&'a str>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<&'a str>,
    pub content: Option<&'a [u8]>,
    pub licence_number: Option<&'a str>,
    pub reused_from: Option<i64>,
}

pub async fn insert_material(
    tx: &mut Tx<'_>,
    application_id: i64,
    applicant_id: &str,
    m: &NewMaterial<'_>,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into service_material (application_id, position, code, name, source, format, size_bytes, sha256,
            content, licence_number, reused_from, applicant_id, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(application_id)
    .bind(m.position)
    .bind(m.code)
    .bind(m.name)
    .bind(m.source)
    .bind(m.format)
    .bind(m.size_bytes)
    .bind(m.sha256)
    .bind(m.content.map(<[u8]>::to_vec))
    .bind(m.licence_number)
    .bind(m.reused_from)
    .bind(applicant_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest electronic material of this code the applicant submitted in an earlier
/// application: (material id, format, size, sha256).
pub async fn earlier_material(
    tx: &mut Tx<'_>,
    applicant_id: &str,
    code: &str,
) -> Result<Option<(i64, Option<String>, Option<i64>, Option<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "select id, format, size_bytes, sha256 from service_material
         where applicant_id = $1 and code = $2 and source = 'submitted' order by id desc limit 1",
    )
    .bind(applicant_id)
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("format")?, r.try_get("size_bytes")?, r.try_get("sha256")?)))
        .transpose()
}

pub async fn materials_of(db: &Db, application_id: i64) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {MATERIAL_COLUMNS} from service_material where application_id = $1 order by position"
    ))
    .bind(application_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(material_from).collect()
}

/// The materials of an application, read inside the writing transaction.
/// True when an application with a step of `department` has the licence as a material.
pub async fn licence_material_for_department(
    tx: &mut Tx<'_>,
    licence_number: &str,
    department: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from service_material m
         where m.licence_number = $1
           and exists (select 1 from service_step s where s.application_id = m.application_id and s.department_code = $2)",
    )
    .bind(licence_number)
    .bind(department)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

pub async fn materials_in(tx: &mut Tx<'_>, application_id: i64) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {MATERIAL_COLUMNS} from service_material where application_id = $1 order by position"
    ))
    .bind(application_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(material_from).collect()
}

pub async fn all_materials(db: &Db) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("select {MATERIAL_COLUMNS} from service_material order by application_id, position"))
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(material_from).collect()
}
