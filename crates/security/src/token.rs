//! Opaque secrets handed to clients: API tokens and session ids. The client keeps the secret;
//! the server keeps only its SHA-256, a fast hash, because the secret is already high-entropy
//! and a request must not pay for a slow one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// 32 random bytes, URL-safe, with a prefix that says what it is (`wgt_` token, `wgs_` session).
pub fn generate(prefix: &str) -> String {
    let bytes: [u8; 32] = crate::random_bytes();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn digest(secret: &str) -> String {
    crate::crypto::hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_unique_and_hashed() {
        let a = super::generate("wgt_");
        assert!(a.starts_with("wgt_") && a.len() > 40);
        assert_ne!(a, super::generate("wgt_"));
        assert_eq!(
            super::digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(super::constant_time_eq("abc", "abc"));
        assert!(!super::constant_time_eq("abc", "abd"));
        assert!(!super::constant_time_eq("abc", "ab"));
    }
}

/// HMAC-SHA256 of a message, hex: the signature on outgoing webhooks.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    m.update(message);
    crate::crypto::hex(&m.finalize().into_bytes())
}

#[cfg(test)]
mod hmac_tests {
    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            super::hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
