//! Passwords: the policy (at least 8 characters, three of four character classes, not the
//! username) and Argon2id hashing in PHC string form.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("密码至少需要 8 个字符")]
    TooShort,
    #[error("密码需包含大写字母、小写字母、数字、符号中的至少三类")]
    TooSimple,
    #[error("密码不能与用户名相同")]
    SameAsUsername,
}

pub fn check_policy(username: &str, password: &str) -> Result<(), PolicyError> {
    if password.chars().count() < 8 {
        return Err(PolicyError::TooShort);
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|&&c| c).count() < 3 {
        return Err(PolicyError::TooSimple);
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(PolicyError::SameAsUsername);
    }
    Ok(())
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash(password: &str) -> String {
    let salt: [u8; 16] = crate::random_bytes();
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify(stored: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_policy("wang", "Ab1!"), Err(PolicyError::TooShort));
        assert_eq!(
            check_policy("wang", "abcdefgh1"),
            Err(PolicyError::TooSimple)
        );
        assert_eq!(
            check_policy("wang", "ABCDEFGHij"),
            Err(PolicyError::TooSimple)
        );
        assert_eq!(
            check_policy("Wang.Li2026", "wang.li2026"),
            Err(PolicyError::SameAsUsername)
        );
        assert_eq!(
            check_policy("Wang.Li2026", "Wang.Li2026"),
            Err(PolicyError::SameAsUsername)
        );
        assert_eq!(check_policy("wang", "abcdefg1!"), Ok(()));
        assert_eq!(check_policy("wang", "Grid2026网格"), Ok(()));
    }

    #[test]
    fn argon2id_round_trip() {
        let h = hash("Grid#2026");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify(&h, "Grid#2026"));
        assert!(!verify(&h, "Grid#2027"));
        assert!(!verify("not a hash", "Grid#2026"));
        assert_ne!(hash("Grid#2026"), h, "salted");
    }
}

/// A one-time initial password to hand out (12 characters of upper and lower case letters,
/// digits and a few symbols, none that read alike — no 0/O, 1/l/I), meeting the policy.
pub fn generate_initial() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789#%+=@";
    loop {
        let bytes: [u8; 12] = crate::random_bytes();
        // 62 symbols: the bias of a byte modulo 62 is below 1.6%, immaterial for a password
        // that must be changed at first login.
        let pw: String = bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        if check_policy("", &pw).is_ok() && pw.chars().any(|c| !c.is_ascii_alphanumeric()) {
            return pw;
        }
    }
}

#[cfg(test)]
mod initial_tests {
    #[test]
    fn initial_passwords_meet_the_policy_and_differ() {
        let a = super::generate_initial();
        let b = super::generate_initial();
        assert_eq!(a.len(), 12);
        assert!(super::check_policy("someone", &a).is_ok());
        assert_ne!(a, b);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }
}
