//! The application layer of Wangge: one function per use case, called by every client — the JSON
//! API, the pages, the command line, the background jobs and, later, the hotline and Open311
//! adapters — so that a rule, a deadline or an audit record exists once. Each use case takes a
//! [`Context`] (the store, the writer, the caches, the keys, the clock), a [`Principal`] (who acts)
//! and typed input, and returns a typed view or an [`AppError`]. Nothing here knows HTTP.
//!
//! Areas: `events` (intake, moves, duplicates, routing, queries, ratings, the deadline watch),
//! `portal` (citizens), `attachments`, `mediation`, `accounts` and `auth`, `settings`, `calendar`,
//! `people`, `regions`, `registry` (the registers and their workbooks), `centre`, `audit`.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod centre;
pub mod context;
pub mod error;
pub mod events;
pub mod limits;
pub mod mediation;
pub mod notify;
pub mod people;
pub mod portal;
pub mod principal;
pub mod regions;
pub mod registry;
pub mod settings;
pub mod workbook;

pub use context::{Clock, Configured, Context};
pub use error::{AppError, AppResult, ErrorKind};
pub use principal::{Person, Principal, Sight, Via};
