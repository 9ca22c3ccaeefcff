//! Storage for Wangge: one [`Store`] over embedded SQLite or PostgreSQL, chosen once at start.
//!
//! SQL is written once with `$N` placeholders and runs unchanged on both (sqlx maps `$N` to the
//! N-th bound value on SQLite); the [`on_db!`] macro expands a query block once per backend so each
//! arm is monomorphic. Only DDL differs, in `migrations/{sqlite,postgres}`, both embedded in the
//! binary and applied at start. Handlers never see a dialect.

mod access;
mod attachments;
mod audit;
mod calendar;
mod db;
mod error;
mod events;
mod mediation;
mod org;
mod registers;
mod registry;
mod settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod writer;

pub use access::{
    AccountRow, GrantedScope, NewAccount, SessionRow, SessionWithAccount, TokenRow,
    TokenWithAccount,
};
pub use attachments::AttachmentRow;
pub use audit::{
    AuditAnchor, AuditCheck, AuditEntry, AuditQuery, AuditRow, GENESIS_HASH, KEYED_PREFIX,
    anchor_path,
};
pub use db::{Backend, SQLITE_FILE, Store, redact};
pub use error::StoreError;
pub use events::{
    EventBreakdown, EventCounts, EventPoint, EventQuery, EventRow, EventWithHistory, MoveRow,
    NearbyEvent, NewMove, NewNotification, WhistleRating,
};
pub use mediation::{
    CaseEntry, CaseQuery, CaseRow, MediationOrgRow, MediatorRow, NewCase, PartyRow, ScreeningRow,
    ScreeningSchedule, SlipRow, StatsCounts, StatsQuery,
};
pub use org::{
    DepartmentRow, NewDepartment, NewPartyOrg, NewPerson, NewTeamMember, NewUnit, OrgBatch,
    PersonRow, TeamMemberRow, UnitRow,
};
pub use registers::{CentreLink, DepartmentEntry, TeamChanges};
pub use registry::{ChildSummary, GridFeature, RegionCounts, RegionRow, RegionSummary};
pub use sqlx::Error as SqlxError;
pub use writer::{NewEventMove, NewReport, Reported, Writer};
