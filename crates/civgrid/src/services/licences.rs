//! Who reads a certificate or e-licence, and who issues one (docs/SERVICES.md, the access
//! policy). The number alone only checks validity (`Certificates::check`); the content and the
//! verifiable bundle go to the holder, who proves it with the access key of the application
//! that issued it, and to the issuing department's approvers and window clerks — and an
//! approver also reads a licence attached as a material to an application on which their
//! department has a step. Every read is recorded. Issuing happens only from an approved
//! application, by the department whose item issues the licence type.

use civgrid_ledger::bundle::Bundle;

use super::applications::applicant_actor;
use super::approvals::licence_request;
use super::{store, text, ServiceError, Services};
use crate::certificates::{CertificateError, CertificateRow, CertificateView, Certificates};
use crate::staff::{Principal, Role};

/// Who asks for a certificate's content or bundle.
#[derive(educe::Educe, Clone, Copy)]
#[educe(Debug)]
pub enum Reader<'a> {
    Staff(&'a Principal),
    /// The holder, with the access key of the application that issued the certificate.
    Holder {
        #[educe(Debug(method(crate::secret::redacted)))]
        key: &'a str,
    },
}

impl Services {
    /// Decides whether `reader` may read the certificate; the same answer (not found) for a
    /// certificate they may not read as for one that does not exist.
    async fn readable(&self, reader: Reader<'_>, number: &str) -> Result<CertificateRow, ServiceError> {
        let not_found = || ServiceError::Certificate(CertificateError::NotFound(number.chars().take(32).collect()));
        let cert = self.certificates.find(number).await?;
        let ok = match reader {
            Reader::Staff(p) => {
                let issuing = p.department_code.as_deref() == Some(cert.department_code.as_str());
                let issuing_side = issuing && (p.has_role(Role::Approver) || p.has_role(Role::WindowClerk));
                issuing_side || self.material_for_my_step(p, number).await?
            }
            Reader::Holder { key } => {
                let content: serde_json::Value = serde_json::from_str(&cert.content).unwrap_or_default();
                let Some(app_number) = content["fields"]["application_number"].as_str() else {
                    return Err(not_found());
                };
                // A wrong key counts against the application like a lookup's.
                let app = self.owned(app_number, key).await.map_err(|e| match e {
                    ServiceError::ApplicationNotFound(_) => not_found(),
                    other => other,
                })?;
                app.applicant_id == cert.subject_id
            }
        };
        if ok {
            Ok(cert)
        } else {
            Err(not_found())
        }
    }

    /// An approver whose department has a step on an application that uses the licence as a
    /// material (审批 needs to see what it decides on).
    async fn material_for_my_step(&self, p: &Principal, number: &str) -> Result<bool, ServiceError> {
        let Some(dept) = p.department_code.as_deref().filter(|_| p.has_role(Role::Approver)) else {
            return Ok(false);
        };
        let mut tx = self.db.begin_read().await?;
        let found = store::licence_material_for_department(&mut tx, number, dept).await?;
        tx.commit().await?;
        Ok(found)
    }

    fn reader_actor(reader: Reader<'_>) -> crate::audit::Actor {
        match reader {
            Reader::Staff(p) => p.actor(),
            Reader::Holder { .. } => applicant_actor(),
        }
    }

    /// The stored certificate with its content, for whoever may read it; recorded.
    pub async fn read_certificate(
        &self,
        reader: Reader<'_>,
        number: &str,
        request_id: Option<&str>,
    ) -> Result<CertificateView, ServiceError> {
        let cert = self.readable(reader, number).await?;
        let subjects = vec![cert.number.clone()];
        self.record_read(&Self::reader_actor(reader), "certificate.read", "certificate", subjects, request_id).await?;
        Ok(self.certificates.get(&cert.number).await?)
    }

    /// The verifiable bundle (content, signature, proof, checkpoint), for whoever may read it;
    /// recorded.
    pub async fn certificate_bundle(
        &self,
        reader: Reader<'_>,
        number: &str,
        request_id: Option<&str>,
    ) -> Result<Bundle, ServiceError> {
        let cert = self.readable(reader, number).await?;
        let bundle = self.certificates.bundle(&cert.number).await?;
        let subjects = vec![cert.number.clone()];
        self.record_read(&Self::reader_actor(reader), "certificate.bundle", "certificate", subjects, request_id)
            .await?;
        Ok(bundle)
    }

    /// Issues the e-licence of an approved application again (after its licence was revoked,
    /// e.g. for a mistake): only an approver of the department whose item issues it, only while
    /// no licence of this application is in force. The content is the application's, never the
    /// caller's.
    pub async fn issue_licence(
        &self,
        p: &Principal,
        number: &str,
        request_id: Option<&str>,
    ) -> Result<CertificateView, ServiceError> {
        let dept = match (p.has_role(Role::Approver), p.department_code.clone()) {
            (false, _) => return Err(ServiceError::Forbidden("issuing e-licences (approvers only)")),
            (true, None) => return Err(ServiceError::NoDepartment),
            (true, Some(d)) => d,
        };
        let now_dt = self.now();
        let now = text(now_dt);
        let today = super::local_date(now_dt);
        let actor = p.actor();
        let (number, request_id) = (number.to_owned(), request_id.map(str::to_owned));
        let certificates = self.certificates.clone();
        let licence = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    let not_found = || ServiceError::ApplicationNotFound(number.chars().take(32).collect());
                    let app = store::lock_application(tx, &number, &now).await?.ok_or_else(not_found)?;
                    let item = store::item_version(tx, &app.item_code, app.item_version)
                        .await?
                        .ok_or_else(|| ServiceError::UnknownItem(app.item_code.clone()))?;
                    // Only the department that owns the item (and so its licence type) issues it; others
                    // are told nothing about the application.
                    if item.spec.department_code != dept {
                        return Err(not_found());
                    }
                    if app.state != "approved" {
                        return Err(ServiceError::NotApproved(app.number));
                    }
                    let r =
                        item.spec.result.clone().ok_or_else(|| ServiceError::NoLicenceForItem(app.number.clone()))?;
                    let in_force =
                        Certificates::library_in(tx, &app.applicant_id, &today).await?.into_iter().any(|c| {
                            c.r#type == r.licence_type
                                && c.content["fields"]["application_number"].as_str() == Some(number.as_str())
                        });
                    if in_force {
                        return Err(ServiceError::LicenceInForce(app.number));
                    }
                    let request = licence_request(&app, &item, &r, &dept, actor.label(), &now, now_dt);
                    let licence = certificates.issue_licence_in(tx, &request).await?;
                    store::insert_event(
                        tx,
                        app.id,
                        &now,
                        actor.label(),
                        "reissue",
                        Some(&format!("重新签发电子证照 {}", licence.number)),
                    )
                    .await?;
                    crate::audit::record(
                        tx,
                        crate::audit::Change {
                            actor: &actor,
                            action: "certificate.issue",
                            entity: "certificate",
                            entity_id: &licence.number,
                            before: None,
                            after: Some(serde_json::json!({"application": app.number, "type": r.licence_type})),
                            request_id: request_id.as_deref(),
                        },
                    )
                    .await?;
                    Ok::<_, ServiceError>(licence)
                })
            })
            .await?;
        Ok(licence)
    }
}
