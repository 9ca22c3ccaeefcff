//! Security primitives for Wangge, free of HTTP and SQL: the national algorithms SM3 (hashing)
//! and SM4-GCM (encryption at rest) with a rotating key ring and an HMAC-SM3 blind index,
//! Argon2id passwords and the password policy, TOTP second factors, API tokens, and the
//! validation and masking of personal identifiers (ID-card and mobile numbers).

pub mod crypto;
pub mod password;
pub mod pii;
pub mod token;
pub mod totp;

/// Fills a buffer from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS source does not fail on the platforms we run on; a failure here is unrecoverable.
    getrandom::fill(&mut b).expect("operating-system random source");
    b
}
