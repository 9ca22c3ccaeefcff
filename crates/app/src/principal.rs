//! Who acts. Every use case takes a [`Principal`]: a person signed in (by a session) or a machine
//! client (by an API token), both bound to an account with a role and a scope; the operator at the
//! server's command line; the platform itself (the deadline watch); or a citizen on the public
//! portal, known only by address. What a principal may see is its [`Visibility`], which every
//! storage read takes; what it may do is its role's permissions and the workflow's rules.

use crate::error::{AppError, AppResult};
use serde_json::Value;
use uuid::Uuid;
use wangge_domain::access::{Node, Permission, Role, Scope, Visibility};
use wangge_domain::workflow::Actor;
use wangge_store::{AccountRow, AuditEntry, EventRow};

/// Which events a principal sees (see [`Principal::sight`]).
#[derive(Debug, Clone)]
pub struct Sight {
    pub vis: Visibility,
    pub department: Option<String>,
}

impl Sight {
    /// Whether an event in `grid_code`, sent to `departments` (space-separated ids), is in sight.
    pub fn sees(&self, grid_code: &str, departments: &str) -> bool {
        match &self.department {
            Some(d) => departments.split_whitespace().any(|x| x == d),
            None => self.vis.sees(grid_code),
        }
    }
}

/// How an account's principal proved itself.
#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session (the SHA-256 of its cookie).
    Session { id_hash: String },
    /// An API token of a machine client.
    Token { id: Uuid },
}

/// An account acting: a person or a machine client.
#[derive(Debug, Clone)]
pub struct Person {
    pub account: AccountRow,
    pub role: Role,
    pub scope: Scope,
    pub via: Via,
    pub ip: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Principal {
    Account(Box<Person>),
    /// The operator running `wangge …` on the server, with the server's own authority.
    Operator,
    /// The platform's own background work (the deadline watch).
    System,
    /// A citizen on the public portal, without an account.
    Citizen {
        ip: Option<String>,
    },
}

impl Principal {
    pub fn account(p: Person) -> Principal {
        Principal::Account(Box::new(p))
    }

    /// The account acting, or 403 for the operator, the system and citizens.
    pub fn person(&self) -> AppResult<&Person> {
        match self {
            Principal::Account(p) => Ok(p),
            _ => Err(AppError::forbidden()),
        }
    }

    /// The part of the tree this principal may read: an account's scope (403 for roles that read
    /// no business data), everything for the operator and the system. Citizens read through
    /// their tracking codes only.
    pub fn visibility(&self) -> AppResult<Visibility> {
        match self {
            Principal::Account(p) => {
                Visibility::for_account(p.role, &p.scope).ok_or_else(AppError::forbidden)
            }
            Principal::Operator | Principal::System => Ok(Visibility::system()),
            Principal::Citizen { .. } => Err(AppError::forbidden()),
        }
    }

    /// Which events this principal sees: those in its part of the tree, or — a department's staff
    /// — those sent to its department. The one rule for reading an event, whatever reads it.
    pub fn sight(&self) -> AppResult<Sight> {
        Ok(Sight {
            vis: self.visibility()?,
            department: self.department(),
        })
    }

    /// A place-scoped account's sight: what counts and lists of an area may cover. A department
    /// sees only the work sent to it, so it has no area (403).
    pub fn area(&self) -> AppResult<Visibility> {
        match self {
            Principal::Account(p) if matches!(p.scope, Scope::Department { .. }) => {
                Err(AppError::forbidden())
            }
            _ => self.visibility(),
        }
    }

    /// The operator holds every administrative permission; the system and citizens none.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        let ok = match self {
            Principal::Account(p) => p.role.can(permission),
            Principal::Operator => true,
            Principal::System | Principal::Citizen { .. } => false,
        };
        if ok {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::Account(p) => Some(p.role),
            _ => None,
        }
    }

    /// The department of a department's staff.
    pub fn department(&self) -> Option<String> {
        match self {
            Principal::Account(p) => match &p.scope {
                Scope::Department { id, .. } => Some(id.clone()),
                Scope::Place(_) => None,
            },
            _ => None,
        }
    }

    pub fn account_id(&self) -> Option<Uuid> {
        match self {
            Principal::Account(p) => Some(p.account.id),
            _ => None,
        }
    }

    /// The name recorded in histories and the audit trail: the username, `cli`, `system` or
    /// `public` (never a person's real name or address).
    pub fn actor_name(&self) -> String {
        match self {
            Principal::Account(p) => p.account.username.clone(),
            Principal::Operator => "cli".into(),
            Principal::System => "system".into(),
            Principal::Citizen { .. } => "public".into(),
        }
    }

    /// The role recorded with a move: the account's role, `operator`, `system` or `citizen`.
    pub fn role_name(&self) -> String {
        match self {
            Principal::Account(p) => p.role.as_str().into(),
            Principal::Operator => "operator".into(),
            Principal::System => "system".into(),
            Principal::Citizen { .. } => "citizen".into(),
        }
    }

    pub fn ip(&self) -> Option<String> {
        match self {
            Principal::Account(p) => p.ip.clone(),
            Principal::Citizen { ip } => ip.clone(),
            _ => None,
        }
    }

    /// An audit record of something this principal did.
    pub fn audit(
        &self,
        action: &str,
        record_type: Option<&str>,
        record_id: Option<String>,
        detail: Value,
    ) -> AuditEntry {
        AuditEntry {
            actor: self.actor_name(),
            actor_role: match self {
                Principal::Operator => None,
                _ => Some(self.role_name()),
            },
            ip: self.ip(),
            action: action.to_string(),
            record_type: record_type.map(str::to_string),
            record_id,
            detail,
        }
    }

    /// Who this principal is to the workflow's rules for one event. The system escalates as the
    /// command centre would; a citizen holding the tracking code is the reporter.
    pub fn workflow_actor(&self, e: &EventRow) -> Actor {
        match self {
            Principal::Account(p) => Actor {
                role: p.role,
                department: self.department(),
                is_reporter: e.reporter_account == Some(p.account.id),
                is_event_grid_worker: p.role == Role::GridWorker
                    && matches!(&p.scope, Scope::Place(Node::Grid(g)) if g.as_str() == e.grid_code),
            },
            Principal::System | Principal::Operator => Actor::new(Role::CommandCentre),
            // Holding the tracking code is what makes a citizen the reporter of the case.
            Principal::Citizen { .. } => Actor {
                is_reporter: true,
                ..Actor::new(Role::GridWorker)
            },
        }
    }

    /// Whether the principal holds an API token rather than a person's session.
    pub fn is_machine(&self) -> bool {
        matches!(self, Principal::Account(p) if matches!(p.via, Via::Token { .. }))
    }
}
