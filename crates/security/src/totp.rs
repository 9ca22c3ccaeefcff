//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the second
//! factor administrators and the command centre must use, and single-use recovery codes.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

const STEP: u64 = 30;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn generate_secret() -> String {
    base32(&crate::random_bytes::<20>())
}

pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(BASE32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn unbase32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.trim().trim_end_matches('=').bytes() {
        let v = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The code for a secret at a Unix time, with `digits` digits.
pub fn code_at(secret: &[u8], unix: u64, digits: u32) -> String {
    let counter = unix / STEP;
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = ((h[off] as u32 & 0x7f) << 24)
        | ((h[off + 1] as u32) << 16)
        | ((h[off + 2] as u32) << 8)
        | h[off + 3] as u32;
    format!(
        "{:0width$}",
        bin % 10u32.pow(digits),
        width = digits as usize
    )
}

/// Whether `code` is valid now, allowing one step of clock drift either way.
pub fn verify(secret_b32: &str, code: &str, unix: u64) -> bool {
    verify_step(secret_b32, code, unix).is_some()
}

/// The 30-second step `code` belongs to, if it is valid now (one step of drift either way): the
/// caller records it so that the same code is never accepted twice.
pub fn verify_step(secret_b32: &str, code: &str, unix: u64) -> Option<u64> {
    let secret = unbase32(secret_b32)?;
    let code = code.trim();
    [unix.saturating_sub(STEP), unix, unix + STEP]
        .into_iter()
        .find(|&t| crate::token::constant_time_eq(&code_at(&secret, t, 6), code))
        .map(|t| t / STEP)
}

/// The `otpauth://` URI an authenticator app scans.
pub fn uri(secret_b32: &str, account: &str) -> String {
    format!(
        "otpauth://totp/Wangge:{account}?secret={secret_b32}&issuer=Wangge&algorithm=SHA1&digits=6&period=30"
    )
}

/// Ten recovery codes, each usable once instead of a TOTP code.
pub fn recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let b: [u8; 5] = crate::random_bytes();
            let s = base32(&b).to_lowercase();
            format!("{}-{}", &s[..4], &s[4..8])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 rows (8 digits), secret "12345678901234567890".
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, t, 8), want, "t={t}");
        }
    }

    #[test]
    fn verify_allows_one_step_of_drift() {
        let s = generate_secret();
        let raw = unbase32(&s).unwrap();
        assert_eq!(base32(&raw), s);
        let now = 1_800_000_000;
        assert!(verify(&s, &code_at(&raw, now, 6), now));
        assert!(verify(&s, &code_at(&raw, now - 30, 6), now));
        assert!(!verify(&s, &code_at(&raw, now - 90, 6), now));
        assert!(!verify(&s, "12345", now));
        assert!(!verify("not base32!", "123456", now));
        assert_eq!(recovery_codes().len(), 10);
    }
}
