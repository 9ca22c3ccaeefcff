//! Accounts, sessions, API tokens and login throttling. Secrets never reach this layer in clear:
//! passwords arrive hashed (Argon2id), session ids and tokens as SHA-256 digests, TOTP secrets
//! encrypted. Time is passed in, so expiry rules live in the caller and are testable.

mod accounts;
mod second_factor;
mod sessions;
mod throttle;
mod tokens;

pub use accounts::{AccountRow, GrantedScope, NewAccount};
pub use sessions::{SessionRow, SessionWithAccount};
pub use tokens::{TokenRow, TokenWithAccount};
