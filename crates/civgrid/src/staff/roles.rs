//! Staff roles (PRODUCT.md "Who uses it"). Citizens and enterprises are not staff and hold no
//! role here.

use serde::{Deserialize, Serialize};

/// On the wire by its snake_case name; the API's schema lists them (`ToSchema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GridWorker,
    IntakeOperator,
    ShiftLeader,
    Dispatcher,
    Handler,
    Commander,
    WindowClerk,
    Approver,
    SafetyOfficer,
    Auditor,
    Witness,
    Admin,
    /// 安全管理员 (等保 三权分立): grants and removes roles, resets passwords, ends sessions,
    /// issues API tokens. The system `admin` manages the organisation and accounts but none of
    /// these; the `auditor` reads the records and writes nothing.
    SecurityAdmin,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::GridWorker,
        Role::IntakeOperator,
        Role::ShiftLeader,
        Role::Dispatcher,
        Role::Handler,
        Role::Commander,
        Role::WindowClerk,
        Role::Approver,
        Role::SafetyOfficer,
        Role::Auditor,
        Role::Witness,
        Role::Admin,
        Role::SecurityAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::IntakeOperator => "intake_operator",
            Role::ShiftLeader => "shift_leader",
            Role::Dispatcher => "dispatcher",
            Role::Handler => "handler",
            Role::Commander => "commander",
            Role::WindowClerk => "window_clerk",
            Role::Approver => "approver",
            Role::SafetyOfficer => "safety_officer",
            Role::Auditor => "auditor",
            Role::Witness => "witness",
            Role::Admin => "admin",
            Role::SecurityAdmin => "security_admin",
        }
    }

    /// The Chinese title shown in the workbench.
    pub fn title_zh(self) -> &'static str {
        match self {
            Role::GridWorker => "网格员",
            Role::IntakeOperator => "受理员",
            Role::ShiftLeader => "值班长",
            Role::Dispatcher => "派遣员",
            Role::Handler => "专业部门处置人员",
            Role::Commander => "指挥中心",
            Role::WindowClerk => "窗口人员",
            Role::Approver => "审批人员",
            Role::SafetyOfficer => "公安/运管审核员",
            Role::Auditor => "审计",
            Role::Witness => "见证部门",
            Role::Admin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
        }
    }

    /// The three administrative duties kept apart (三权分立): one account holds at most one.
    pub fn is_administrative(self) -> bool {
        matches!(self, Role::Admin | Role::SecurityAdmin | Role::Auditor)
    }

    /// Whether an administrator in role `self` manages accounts holding `role` (and grants
    /// it): the system admin manages the working roles' accounts, the security admin every
    /// account but another security admin's. Nobody else administers anything.
    pub fn administers(self, role: Role) -> bool {
        match self {
            Role::Admin => !role.is_administrative(),
            Role::SecurityAdmin => role != Role::SecurityAdmin,
            _ => false,
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("citizen"), None);
    }
}
