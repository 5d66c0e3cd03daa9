//! The case loop's settings, kept by administrators: the versioned class catalogue, each
//! area's owner of last resort (who gets a component nobody owns), and the working calendar.

use super::*;

impl Cases {
    pub async fn classes(&self) -> Result<Vec<CaseClass>, CaseError> {
        Ok(store::current_classes(&self.db).await?)
    }

    /// Adds a new version of a class (or its first). Earlier cases keep the version they had.
    pub async fn put_class(&self, by: &str, mut class: CaseClass) -> Result<CaseClass, CaseError> {
        let ok_code = (2..=16).contains(&class.code.len()) && class.code.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok_code {
            return Err(CaseError::InvalidField("class code must be 2–16 letters or digits".into()));
        }
        if !matches!(class.kind.as_str(), "event" | "component") {
            return Err(CaseError::InvalidField("kind must be event or component".into()));
        }
        if !matches!(class.time_limit_unit.as_str(), "working_hours" | "working_days") || class.time_limit <= 0 {
            return Err(CaseError::InvalidField(
                "time limit must be a positive number of working_hours or working_days".into(),
            ));
        }
        if !(class.duplicate_radius_m >= 0.0 && class.duplicate_radius_m <= 5000.0) || class.duplicate_window_hours < 0
        {
            return Err(CaseError::InvalidField(
                "duplicate radius must be 0–5000 m and the window non-negative".into(),
            ));
        }
        let by = by.to_owned();
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<CaseClass, CaseError>> {
                Box::pin(async move {
                    if crate::staff::find_department(tx, &class.department_code).await?.is_none() {
                        return Err(CaseError::UnknownDepartment(class.department_code));
                    }
                    class.version = store::current_class(tx, &class.code).await?.map_or(1, |c| c.version + 1);
                    store::insert_class(tx, &class, &by).await?;
                    Ok(class)
                })
            })
            .await
    }

    /// The owner of last resort for a grid: its community's, else its subdistrict's, else the
    /// district's (area codes are prefixes of the grid code: 12, 9 and 6 digits).
    pub(super) async fn last_resort(&self, tx: &mut crate::db::Tx<'_>, grid: &str) -> Result<String, CaseError> {
        for len in [12, 9, 6] {
            if let Some(area) = grid.get(..len) {
                if let Some(d) = store::last_resort_for(tx, area).await? {
                    return Ok(d);
                }
            }
        }
        Err(CaseError::NoLastResort(grid.to_owned()))
    }

    /// Every area's owner of last resort.
    pub async fn last_resorts(&self) -> Result<Vec<(String, String)>, CaseError> {
        Ok(store::last_resort_departments(&self.db).await?)
    }

    /// Sets (or with `None` clears) an area's owner of last resort, with its change record.
    pub async fn put_last_resort(
        &self,
        actor: &crate::audit::Actor,
        area: &str,
        department: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<(), CaseError> {
        // Areas are districts, subdistricts and communities; a grid code is refused here.
        self.territory.area(area).await?;
        let (actor, area) = (actor.clone(), area.to_owned());
        let (department, request_id) = (department.map(str::to_owned), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<(), CaseError>> {
                Box::pin(async move {
                    let (area, department) = (area.as_str(), department.as_deref());
                    if let Some(d) = department {
                        if crate::staff::find_department(tx, d).await?.is_none() {
                            return Err(CaseError::UnknownDepartment(d.chars().take(32).collect()));
                        }
                    }
                    let before = store::last_resort_for(tx, area).await?;
                    let now = crate::db::now_text();
                    store::put_last_resort(tx, area, department, actor.label(), &now).await?;
                    crate::audit::record(
                        tx,
                        crate::audit::Change {
                            actor: &actor,
                            action: if department.is_some() { "last_resort.set" } else { "last_resort.clear" },
                            entity: "last_resort_department",
                            entity_id: area,
                            before: before.map(|d| serde_json::json!({"department_code": d})),
                            after: department.map(|d| serde_json::json!({"department_code": d})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    pub async fn calendar(&self) -> Result<Calendar, CaseError> {
        let days = store::calendar_days(&self.db).await?;
        Ok(Calendar::new(days.into_iter().filter_map(|(d, k, _)| {
            let day = NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()?;
            Some((day, if k == "holiday" { DayKind::Holiday } else { DayKind::Workday }))
        })))
    }

    pub async fn calendar_days(&self) -> Result<Vec<(String, String, String)>, CaseError> {
        Ok(store::calendar_days(&self.db).await?)
    }

    /// Marks a day as a holiday or a make-up working day; `kind = None` removes the exception.
    pub async fn put_calendar_day(&self, day: &str, kind: Option<&str>, note: &str) -> Result<(), CaseError> {
        let d = NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| CaseError::InvalidField(format!("`{day}` is not a date (YYYY-MM-DD)")))?;
        let day = d.format("%Y-%m-%d").to_string();
        let kind = match kind {
            Some(k @ ("holiday" | "workday")) => Some(k.to_owned()),
            None => None,
            Some(other) => {
                return Err(CaseError::InvalidField(format!("day kind `{other}` is not holiday or workday")))
            }
        };
        let note = note.trim().to_owned();
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<(), CaseError>> {
                Box::pin(async move {
                    match kind {
                        Some(k) => store::put_calendar_day(tx, &day, &k, &note).await?,
                        None => {
                            store::delete_calendar_day(tx, &day).await?;
                        }
                    }
                    Ok(())
                })
            })
            .await
    }
}
