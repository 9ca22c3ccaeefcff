//! SM3 hashing, SM4-GCM encryption with a key ring, and the HMAC-SM3 blind index.
//!
//! Ciphertexts are text: `sm4gcm:{key id}:{base64(nonce ‖ ciphertext ‖ tag)}`, so a column can hold
//! values under several keys while keys rotate. The blind index lets storage find a record by an
//! exact identifier without holding it in clear; it uses its own key, never the encryption key.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sm3::{Digest, Sm3};
use sm4::Sm4;
use std::collections::BTreeMap;

type Sm4Gcm = AesGcm<Sm4, U12>;

pub fn sm3(data: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(data);
    h.finalize().into()
}

pub fn sm3_hex(data: &[u8]) -> String {
    hex(&sm3(data))
}

pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sm3> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CryptoError {
    #[error("密钥文件格式错误：{0}")]
    BadKeyFile(String),
    #[error("密文格式错误")]
    BadCiphertext,
    #[error("找不到密钥 {0}（密钥轮换后旧密钥必须保留在密钥文件中）")]
    UnknownKey(String),
    #[error("解密失败：密文被篡改或密钥不符")]
    Tampered,
}

/// The SM4 keys, by id, with the one new values are written under, plus the blind-index key.
#[derive(Clone)]
pub struct KeyRing {
    keys: BTreeMap<String, [u8; 16]>,
    current: String,
    index_key: [u8; 32],
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl KeyRing {
    /// A fresh ring with one random key: the text of a new key file.
    pub fn generate_file() -> String {
        let key: [u8; 16] = crate::random_bytes();
        let index: [u8; 32] = crate::random_bytes();
        format!(
            "# Wangge data keys. Keep this file out of the database and its backups; losing it loses\n\
             # every encrypted identifier. To rotate, add a new line and point `current` at it;\n\
             # keep the old lines so older values can still be read.\n\
             current = k1\nindex = {}\nk1 = {}\n",
            hex(&index),
            hex(&key)
        )
    }

    /// Reads `name = hex` lines: `current`, `index` (32-byte blind-index key) and the SM4 keys.
    pub fn parse(text: &str) -> Result<KeyRing, CryptoError> {
        let mut keys = BTreeMap::new();
        let mut current = None;
        let mut index_key = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .split_once('=')
                .map(|(a, b)| (a.trim(), b.trim()))
                .ok_or_else(|| CryptoError::BadKeyFile(format!("第 {} 行应为 名称 = 值", n + 1)))?;
            match name {
                "current" => current = Some(value.to_string()),
                "index" => {
                    let k = unhex(value).filter(|k| k.len() == 32).ok_or_else(|| {
                        CryptoError::BadKeyFile(format!("第 {} 行：index 应为64位十六进制", n + 1))
                    })?;
                    index_key = Some(<[u8; 32]>::try_from(k.as_slice()).expect("length checked"));
                }
                id => {
                    let k = unhex(value).filter(|k| k.len() == 16).ok_or_else(|| {
                        CryptoError::BadKeyFile(format!(
                            "第 {} 行：密钥 {id} 应为32位十六进制",
                            n + 1
                        ))
                    })?;
                    if id.contains(':') {
                        return Err(CryptoError::BadKeyFile(format!("密钥名 {id} 不能含冒号")));
                    }
                    keys.insert(
                        id.to_string(),
                        <[u8; 16]>::try_from(k.as_slice()).expect("length checked"),
                    );
                }
            }
        }
        let current = current.ok_or_else(|| CryptoError::BadKeyFile("缺少 current".into()))?;
        if !keys.contains_key(&current) {
            return Err(CryptoError::BadKeyFile(format!(
                "current 指向不存在的密钥 {current}"
            )));
        }
        let index_key = index_key.ok_or_else(|| CryptoError::BadKeyFile("缺少 index".into()))?;
        Ok(KeyRing {
            keys,
            current,
            index_key,
        })
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    pub fn encrypt(&self, plain: &str) -> String {
        let key = &self.keys[&self.current];
        let cipher = Sm4Gcm::new_from_slice(key).expect("16-byte key");
        let nonce: [u8; 12] = crate::random_bytes();
        let sealed = cipher
            .encrypt(&nonce.into(), plain.as_bytes())
            .expect("in-memory encryption");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("sm4gcm:{}:{}", self.current, B64.encode(out))
    }

    pub fn decrypt(&self, text: &str) -> Result<String, CryptoError> {
        let mut parts = text.splitn(3, ':');
        let (Some("sm4gcm"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::BadCiphertext);
        };
        let key = self
            .keys
            .get(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let raw = B64.decode(body).map_err(|_| CryptoError::BadCiphertext)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::BadCiphertext);
        }
        let (nonce, sealed) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::BadCiphertext)?;
        let cipher = Sm4Gcm::new_from_slice(key).expect("16-byte key");
        let plain = cipher
            .decrypt(&nonce.into(), sealed)
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Tampered)
    }

    /// The key audit records are sealed with (HMAC-SM3), derived from the blind-index key so that
    /// existing key files need no new line; like every key here it never enters the database.
    pub fn audit_key(&self) -> [u8; 32] {
        hmac_sm3(&self.index_key, b"wangge audit chain v1")
    }

    /// The blind index of an identifier, for exact-match lookups. `kind` separates domains so an
    /// ID number and a phone number never share an index value.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let mut data = kind.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(value.trim().as_bytes());
        hex(&hmac_sm3(&self.index_key, &data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm4::cipher::BlockCipherEncrypt;

    #[test]
    fn sm3_standard_vectors() {
        // GB/T 32905-2016, examples 1 and 2.
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            sm3_hex(&b"abcd".repeat(16)),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn sm4_standard_vector() {
        // GB/T 32907-2016, appendix A example 1: key = plaintext = 0123456789abcdeffedcba9876543210.
        let key = unhex("0123456789abcdeffedcba9876543210").unwrap();
        let cipher = Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::Block::<Sm4>::try_from(key.as_slice()).unwrap();
        cipher.encrypt_block(&mut block);
        assert_eq!(hex(&block), "681edf34d206965e86b3e94f536e4246");
    }

    fn ring() -> KeyRing {
        KeyRing::parse(&KeyRing::generate_file()).unwrap()
    }

    #[test]
    fn sm4_gcm_round_trips_and_detects_tampering() {
        let r = ring();
        let c = r.encrypt("640202199001011234");
        assert!(c.starts_with("sm4gcm:k1:"));
        assert!(!c.contains("1990"));
        assert_eq!(r.decrypt(&c).unwrap(), "640202199001011234");
        assert_ne!(r.encrypt("x"), r.encrypt("x"), "a fresh nonce every time");
        let mut bad = c.clone().into_bytes();
        let last = bad.len() - 3;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            r.decrypt(&String::from_utf8(bad).unwrap()),
            Err(CryptoError::Tampered)
        );
        assert_eq!(r.decrypt("plain"), Err(CryptoError::BadCiphertext));
        assert_eq!(
            ring().decrypt(&c),
            Err(CryptoError::Tampered),
            "another key cannot read it"
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let text = KeyRing::generate_file();
        let old = KeyRing::parse(&text).unwrap();
        let c = old.encrypt("13812345678");
        let rotated = format!(
            "{}\nk2 = {}\n",
            text.replace("current = k1", "current = k2"),
            hex(&[7u8; 16])
        );
        let new = KeyRing::parse(&rotated).unwrap();
        assert_eq!(new.current_key_id(), "k2");
        assert_eq!(new.decrypt(&c).unwrap(), "13812345678");
        assert!(new.encrypt("x").starts_with("sm4gcm:k2:"));
        assert_eq!(
            old.blind_index("phone", "13812345678"),
            new.blind_index("phone", "13812345678")
        );
        let without_k1: String = rotated
            .lines()
            .filter(|l| !l.starts_with("k1"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            KeyRing::parse(&without_k1).unwrap().decrypt(&c),
            Err(CryptoError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn blind_index_separates_kinds_and_is_stable() {
        let r = ring();
        assert_eq!(
            r.blind_index("phone", "13812345678"),
            r.blind_index("phone", " 13812345678 ")
        );
        assert_ne!(
            r.blind_index("phone", "13812345678"),
            r.blind_index("id", "13812345678")
        );
        assert_eq!(r.blind_index("id", "x").len(), 64);
    }

    #[test]
    fn bad_key_files_say_what_is_wrong() {
        for (text, needle) in [
            ("k1 = 00", "k1"),
            (
                "current = k9\nindex = 00\nk1 = 0123456789abcdeffedcba9876543210",
                "index",
            ),
            ("garbage", "第 1 行"),
            (
                "index = 0000000000000000000000000000000000000000000000000000000000000000\nk1 = 0123456789abcdeffedcba9876543210",
                "current",
            ),
        ] {
            let e = KeyRing::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
        assert!(
            !format!("{:?}", ring()).contains("k1 ="),
            "Debug never shows keys"
        );
    }
}
