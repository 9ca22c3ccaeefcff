//! Who may do what, and where: the roles of the platform, the permissions each role carries, and
//! the scope every account has (a node of the region tree, or a department).
//!
//! A [`Scope`] turns into a [`Visibility`]: the one value every read in storage must take, so a
//! handler that forgets a check still cannot read outside the caller's part of the city. Admin
//! roles carry no business permission at all (三员分立: the system, security and audit
//! administrators each do one job and none reads business data by virtue of the role).

use crate::region::{GridCode, RegionCode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! roles {
    ($($variant:ident = $id:literal, $zh:literal;)+) => {
        /// A role of PRODUCT.md §2, with its stable wire id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum Role { $($variant),+ }

        impl Role {
            pub const ALL: &'static [Role] = &[$(Role::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $(Role::$variant => $id),+ } }
            pub fn label_zh(self) -> &'static str { match self { $(Role::$variant => $zh),+ } }
        }
    };
}

roles! {
    GridWorker = "grid_worker", "网格员";
    CommunityStaff = "community_staff", "社区（村）工作人员";
    StreetDispatcher = "street_dispatcher", "乡镇（街道）调度员";
    CommandCentre = "command_centre", "指挥中心";
    DepartmentStaff = "department_staff", "职能部门工作人员";
    Mediator = "mediator", "调解员";
    Leader = "leader", "领导";
    SystemAdmin = "system_admin", "系统管理员";
    SecurityAdmin = "security_admin", "安全管理员";
    AuditAdmin = "audit_admin", "审计管理员";
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let ids: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("未知角色 \"{s}\"（可选：{}）", ids.join("、"))
            })
    }
}

/// What an account may do. Business reads are separate from administration so that the three
/// administrator roles hold none of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read the region tree, grids, units and teams within scope.
    ReadRegistry,
    /// See a personal identifier in clear, one record at a time (audited).
    UnmaskPersonalData,
    /// Export data (audited).
    Export,
    /// Create, lock, unlock and deactivate accounts; issue tokens; configuration.
    ManageAccounts,
    /// Roles, permissions and security policy (lockout, session lifetimes).
    ManageSecurity,
    /// Read the audit trail.
    ReadAudit,
    /// Keep the business registers (departments, units, people, grid teams) within scope.
    KeepRegisters,
    /// Change the settings: catalogue, routing, notification rules, office hours, yellow share.
    Configure,
}

impl Role {
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::GridWorker | Role::DepartmentStaff => &[ReadRegistry],
            Role::CommunityStaff => &[ReadRegistry, KeepRegisters],
            Role::Mediator => &[ReadRegistry, UnmaskPersonalData],
            Role::StreetDispatcher => &[ReadRegistry, UnmaskPersonalData, KeepRegisters],
            Role::CommandCentre => &[ReadRegistry, UnmaskPersonalData, Export, KeepRegisters],
            Role::Leader => &[ReadRegistry, Export],
            Role::SystemAdmin => &[ManageAccounts, Configure],
            Role::SecurityAdmin => &[ManageSecurity],
            Role::AuditAdmin => &[ReadAudit],
        }
    }

    pub fn can(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }

    /// 三员: the separated administrator roles.
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }

    /// MLPS level 3 asks for two factors; required for administrators and the command centre.
    pub fn requires_second_factor(self) -> bool {
        self.is_administrator() || self == Role::CommandCentre
    }

    /// Whether the role's scope is a department rather than a place.
    pub fn scoped_to_department(self) -> bool {
        self == Role::DepartmentStaff
    }
}

/// A node of the region tree an account is bound to: a region or a single grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    Region(RegionCode),
    Grid(GridCode),
}

impl Node {
    pub fn parse(s: &str) -> Result<Node, String> {
        let s = s.trim();
        match s.len() {
            12 => RegionCode::parse(s)
                .map(Node::Region)
                .map_err(|e| e.to_string()),
            15 => GridCode::parse(s)
                .map(Node::Grid)
                .map_err(|e| e.to_string()),
            _ => Err(format!("范围应为12位区划代码或15位网格编码，收到 \"{s}\"")),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Node::Region(r) => r.as_str(),
            Node::Grid(g) => g.as_str(),
        }
    }

    /// The prefix every code under this node starts with.
    pub fn prefix(&self) -> &str {
        match self {
            Node::Region(r) => r.prefix(),
            Node::Grid(g) => g.as_str(),
        }
    }
}

/// Where an account acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A node of the tree and everything below it.
    Place(Node),
    /// A department: the work sent to it, and the region it serves for reference.
    Department { id: String, serves: RegionCode },
}

impl Scope {
    pub fn describe(&self) -> String {
        match self {
            Scope::Place(n) => n.code().to_string(),
            Scope::Department { id, .. } => format!("department:{id}"),
        }
    }
}

/// The part of the region tree a read may see, as a code prefix. Only two ways make one: from a
/// caller that holds [`Permission::ReadRegistry`], or [`Visibility::system`] for operators'
/// commands and background work. Storage reads take it as an argument, always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    prefix: String,
}

impl Visibility {
    /// Everything: for the CLI run by the operator on the server, and internal jobs.
    pub fn system() -> Visibility {
        Visibility {
            prefix: String::new(),
        }
    }

    /// What a caller of this role and scope may read, or `None` when the role reads no business data.
    pub fn for_account(role: Role, scope: &Scope) -> Option<Visibility> {
        if !role.can(Permission::ReadRegistry) {
            return None;
        }
        let prefix = match scope {
            Scope::Place(n) => n.prefix().to_string(),
            Scope::Department { serves, .. } => serves.prefix().to_string(),
        };
        Some(Visibility { prefix })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether a region or grid code lies inside.
    pub fn sees(&self, code: &str) -> bool {
        code.starts_with(&self.prefix)
    }

    /// The part of this sight under one region (a report on a township, say); `None` when the
    /// region lies outside it.
    pub fn narrowed_to(&self, region: &crate::region::RegionCode) -> Option<Visibility> {
        let prefix = region.prefix();
        prefix.starts_with(&self.prefix).then(|| Visibility {
            prefix: prefix.to_string(),
        })
    }

    /// A county or more: lists over such an area read by time rather than by place.
    pub fn is_wide(&self) -> bool {
        self.prefix.len() <= 6
    }

    /// The `[low, high)` code range of what is visible, for index-friendly SQL.
    pub fn range(&self) -> (String, String) {
        crate::region::code_range(&self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrators_hold_one_duty_and_no_business_reads() {
        let admins: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.is_administrator())
            .collect();
        assert_eq!(admins.len(), 3);
        for a in &admins {
            assert!(!a.can(Permission::ReadRegistry), "{a}");
            assert!(!a.can(Permission::UnmaskPersonalData), "{a}");
            for other in admins.iter().filter(|o| *o != a) {
                assert!(
                    a.permissions().iter().all(|p| !other.can(*p)),
                    "{a} and {other} share nothing: one duty each"
                );
            }
            assert!(a.requires_second_factor());
            let scope = Scope::Place(Node::parse("640200000000").unwrap());
            assert!(Visibility::for_account(*a, &scope).is_none());
        }
        // The system administrator's duty is the system: accounts and configuration.
        assert_eq!(
            Role::SystemAdmin.permissions(),
            &[Permission::ManageAccounts, Permission::Configure]
        );
        assert!(Role::CommandCentre.requires_second_factor());
        assert!(!Role::GridWorker.requires_second_factor());
    }

    #[test]
    fn visibility_follows_the_scope() {
        let street = Scope::Place(Node::parse("640202001000").unwrap());
        let v = Visibility::for_account(Role::StreetDispatcher, &street).unwrap();
        assert!(v.sees("640202001003") && v.sees("640202001003007"));
        assert!(!v.sees("640202002001") && !v.sees("640200000000"));
        let grid = Scope::Place(Node::parse("640202001003007").unwrap());
        let v = Visibility::for_account(Role::GridWorker, &grid).unwrap();
        assert!(v.sees("640202001003007") && !v.sees("640202001003008"));
        let dept = Scope::Department {
            id: "x".into(),
            serves: RegionCode::parse("640205000000").unwrap(),
        };
        let v = Visibility::for_account(Role::DepartmentStaff, &dept).unwrap();
        assert!(v.sees("640205001001") && !v.sees("640202001001"));
        assert!(Visibility::system().sees("640202001001"));
        assert_eq!(Visibility::system().range().0, "");
    }

    #[test]
    fn roles_round_trip_and_bad_ids_list_the_choices() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let e = "admin".parse::<Role>().unwrap_err();
        assert!(e.contains("system_admin"));
        assert!(Node::parse("6402").is_err());
    }
}
