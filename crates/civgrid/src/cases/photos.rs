//! Photos of a case (before/after evidence): who may add them (only who acts on the open case,
//! or the reporter with the key their report gave), the checks on the bytes (the type proven
//! from them, the metadata stripped), and who may read them (those who work the case, each
//! read recorded).

use super::*;

/// Who attaches a photo: the trace's actor and role, and the staff member it counts for.
struct Uploader {
    actor: String,
    role: &'static str,
    staff_id: Option<i64>,
}

/// The photo's type, the photo as stored — without its metadata (EXIF GPS and the like,
/// [`photo`]) — and its SHA-256 (hex; computed here, outside the write unit), if the bytes are a readable JPEG, PNG or WebP of at most [`MAX_PHOTO_BYTES`]
/// and match the type declared.
fn checked_photo(declared: &str, bytes: &[u8]) -> Result<(&'static str, Vec<u8>, String), CaseError> {
    let sniffed = sniff_image(bytes).ok_or(CaseError::InvalidPhoto)?;
    if bytes.len() > MAX_PHOTO_BYTES || declared.split(';').next().map(str::trim) != Some(sniffed) {
        return Err(CaseError::InvalidPhoto);
    }
    let stripped = photo::without_metadata(sniffed, bytes).ok_or(CaseError::InvalidPhoto)?;
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(&stripped));
    Ok((sniffed, stripped, sha))
}

impl Cases {
    /// Whether the caller may add photos to the case: only who acts on it in its current state
    /// (an open case): its grid's worker, the intake operator, shift leader or dispatcher of its
    /// area, a handler of its lead department. Oversight and other roles never.
    pub(super) async fn may_add_photos(
        &self,
        tx: &mut crate::db::Tx<'_>,
        p: &Principal,
        case: &CaseRow,
    ) -> Result<bool, CaseError> {
        if !State::parse(&case.state).is_some_and(State::is_open) {
            return Ok(false);
        }
        if seen_by_area(&areas_of(p, &PHOTO_AREA_ROLES), case.grid_code.as_deref()) {
            return Ok(true);
        }
        if let (Some(dept), Some(lead)) = (p.handler_department(), case.lead_department.as_deref()) {
            if dept == lead {
                return Ok(true);
            }
        }
        match (&case.grid_code, p.has_role(Role::GridWorker)) {
            (Some(g), true) => Ok(store::is_assigned(tx, g, p.staff_id).await?),
            _ => Ok(false),
        }
    }

    /// Attaches a photo (before/after evidence) to a case the caller can see. The type is
    /// proven from the bytes; a mismatch with the declared type is refused.
    pub async fn add_photo(
        &self,
        p: &Principal,
        id: i64,
        declared: &str,
        bytes: &[u8],
    ) -> Result<store::PhotoMeta, CaseError> {
        let (sniffed, bytes, sha) = checked_photo(declared, bytes)?;
        let (this, p) = (self.clone(), p.clone());
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<store::PhotoMeta, CaseError>> {
                Box::pin(async move {
                    let case = store::find_case(tx, id).await?.ok_or(CaseError::NotFound(id))?;
                    if this.sight(tx, &p, &case).await?.is_none() {
                        return Err(CaseError::NotFound(id));
                    }
                    if !this.may_add_photos(tx, &p, &case).await? {
                        return Err(CaseError::PhotoNotPermitted(id));
                    }
                    let uploader =
                        Uploader { actor: p.actor().label().to_owned(), role: "staff", staff_id: Some(p.staff_id) };
                    this.attach_photo(tx, &case, sniffed, (&bytes, sha), uploader).await
                })
            })
            .await
    }

    /// A citizen who reported without a session attaches a photo to their case, showing the
    /// key the report's answer gave them, within [`PHOTO_KEY_HOURS`] hours of reporting.
    pub async fn add_photo_as_reporter(
        &self,
        number: &str,
        key: Option<&str>,
        declared: &str,
        bytes: &[u8],
    ) -> Result<store::PhotoMeta, CaseError> {
        let key = key.map(str::trim).filter(|k| !k.is_empty()).ok_or(CaseError::PhotoKeyRequired)?;
        let (sniffed, bytes, sha) = checked_photo(declared, bytes)?;
        let number = number.trim().to_owned();
        let key_hash = crate::staff::token_hash(key);
        let this = self.clone();
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<store::PhotoMeta, CaseError>> {
                Box::pin(async move {
                    let not_found = || CaseError::NumberNotFound(number.chars().take(32).collect());
                    let case = store::find_case_by_number(tx, &number).await?.ok_or_else(not_found)?;
                    let stored = store::reporter_photo_key(tx, case.id).await?;
                    if stored.as_deref() != Some(key_hash.as_str()) {
                        return Err(CaseError::PhotoKeyMismatch);
                    }
                    if this.clock.now() - case.created_at > chrono::Duration::hours(PHOTO_KEY_HOURS) {
                        return Err(CaseError::PhotoKeyExpired);
                    }
                    let uploader = Uploader { actor: REPORTER_ACTOR.to_owned(), role: REPORTER_ROLE, staff_id: None };
                    this.attach_photo(tx, &case, sniffed, (&bytes, sha), uploader).await
                })
            })
            .await
    }

    /// Stores a checked photo on a case the uploader may add to, with its trace, in the
    /// caller's write unit.
    async fn attach_photo(
        &self,
        tx: &mut crate::db::Tx<'_>,
        case: &CaseRow,
        sniffed: &'static str,
        (bytes, sha): (&[u8], String),
        by: Uploader,
    ) -> Result<store::PhotoMeta, CaseError> {
        let id = case.id;
        if store::photo_count(tx, id).await? >= MAX_PHOTOS_PER_CASE {
            return Err(CaseError::TooManyPhotos);
        }
        let now_dt = self.clock.now_stored();
        let now = text(now_dt);
        let photo_id = store::insert_photo(tx, id, sniffed, bytes, &sha, &by.actor, &now).await?;
        if let Some(staff_id) = by.staff_id {
            // The uploader has now acted on the case: it counts in their indicators.
            let counted = rollup::Filed::from(case);
            rollup::count_in(tx, id, &counted, &counted, Some(staff_id)).await?;
        }
        let note = format!("photo {photo_id} sha256 {sha}");
        let record = store::NewTransition {
            case_id: id,
            actor: &by.actor,
            role: by.role,
            action: "attach_photo",
            from: Some(&case.state),
            to: &case.state,
            note: Some(&note),
            at: &now,
            after: store::After::Row(case),
        };
        trace::record(tx, &record).await?;
        Ok(store::PhotoMeta {
            id: photo_id,
            content_type: sniffed.into(),
            sha256: sha,
            size: bytes.len() as i64,
            uploaded_by: by.actor,
            created_at: now_dt,
        })
    }

    /// Refuses unless the caller sees the case whole (photos are not for oversight).
    async fn require_full_sight(&self, p: &Principal, id: i64) -> Result<(), CaseError> {
        let mut tx = self.db.begin_read().await?;
        let case = store::find_case(&mut tx, id).await?.ok_or(CaseError::NotFound(id))?;
        let sight = self.sight(&mut tx, p, &case).await?;
        tx.commit().await?;
        match sight {
            None => Err(CaseError::NotFound(id)),
            Some(Sight::Oversight) => Err(CaseError::PhotosWithheld(id)),
            Some(Sight::Full) => Ok(()),
        }
    }

    /// The photos of a case (metadata), for those who work it; the read is recorded.
    pub async fn photos(
        &self,
        p: &Principal,
        id: i64,
        request_id: Option<&str>,
    ) -> Result<Vec<store::PhotoMeta>, CaseError> {
        self.require_full_sight(p, id).await?;
        let photos = store::photos(&self.db, id).await?;
        if !photos.is_empty() {
            self.record_reads(p, CASE_PHOTO_PURPOSE, vec![id], request_id).await?;
        }
        Ok(photos)
    }

    /// One photo of a case, for those who work it; the read is recorded.
    pub async fn photo(
        &self,
        p: &Principal,
        id: i64,
        photo_id: i64,
        request_id: Option<&str>,
    ) -> Result<(String, Vec<u8>), CaseError> {
        self.require_full_sight(p, id).await?;
        let photo = store::photo_bytes(&self.db, id, photo_id).await?.ok_or(CaseError::NotFound(id))?;
        self.record_reads(p, CASE_PHOTO_PURPOSE, vec![id], request_id).await?;
        Ok(photo)
    }
}
