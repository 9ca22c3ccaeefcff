//! Storage of people's mediation: organisations and mediators, dispute cases with their parties
//! and their timeline (the case file), transfer slips, and the statistics counted in the database
//! (handled, successful, …) so a city's year is one grouped read, not a transfer of every case.
//! Every read of cases takes the caller's visibility (a prefix of the case's grid code).

mod cases;
mod network;
mod screening;
mod slips;
mod stats;

pub(crate) use cases::write_cases;
pub use cases::{CaseEntry, CaseQuery, CaseRow, NewCase, PartyRow};
pub use network::{MediationOrgRow, MediatorRow};
pub use screening::{ScreeningRow, ScreeningSchedule};
pub use slips::SlipRow;
pub use stats::{StatsCounts, StatsQuery};

pub(crate) const BATCH: usize = 500;
