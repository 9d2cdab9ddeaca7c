//! Passwords: argon2id (RustCrypto `argon2`, its default parameters: 19 MiB, 2 passes,
//! 1 lane — OWASP's recommendation), stored as PHC strings so that parameters can be
//! raised later without invalidating old hashes. Hashing is slow by design (tens of
//! milliseconds), so it runs on a blocking thread, never on the async runtime.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// The longest password accepted (characters).
pub const MAX_LENGTH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing thread failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The argon2id PHC string of `password`, with a fresh random salt (blocking).
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (blocking). A malformed hash never
/// matches.
pub fn verify_blocking(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// [`hash_blocking`] on a blocking thread.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// [`verify_blocking`] on a blocking thread. With no hash (no such account) a dummy hash
/// is verified instead, so that the answer takes as long and a name cannot be probed by
/// timing; the answer is then `false`.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, PasswordError> {
    Ok(tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_blocking(&password, &hash),
        None => {
            let _ = verify_blocking(&password, dummy_hash());
            false
        }
    })
    .await?)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut seed = [0u8; 16];
        getrandom::fill(&mut seed).expect("the operating system's random source");
        hash_blocking(&hex::encode(seed)).expect("hashing a random password")
    })
}

/// Refuses a password that is easy to guess, saying why (in Vietnamese: clerks read it).
pub fn check_strength(password: &str, account_name: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "Mật khẩu quá ngắn: cần ít nhất {MIN_LENGTH} ký tự (đang có {length})."
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!("Mật khẩu dài quá {MAX_LENGTH} ký tự."));
    }
    if password.chars().any(char::is_control) {
        return Err("Mật khẩu không được chứa ký tự điều khiển hay xuống dòng.".into());
    }
    let lower = password.to_lowercase();
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err("Mật khẩu quá đơn giản: cần ít nhất 5 ký tự khác nhau.".into());
    }
    let name = account_name.trim().to_lowercase();
    if name.len() >= 3 && lower.contains(&name) {
        return Err("Mật khẩu không được chứa tên đăng nhập.".into());
    }
    let folded = crate::text::fold(&lower).replace(' ', "");
    const COMMON: &[&str] = &[
        "password", "matkhau", "123456", "qwerty", "abcdef", "admin", "vanthu", "ubnd", "iloveyou",
        "111111", "000000", "abc123",
    ];
    // What is left once the common words and digit runs are taken out must still be a
    // few characters: "matkhau123456" is not a password.
    let mut rest = folded.clone();
    for word in COMMON {
        rest = rest.replace(word, "");
    }
    let rest: String = rest.chars().filter(|c| !c.is_ascii_digit()).collect();
    if rest.chars().count() < 4 && folded.chars().filter(|c| c.is_ascii_digit()).count() < 10 {
        return Err(
            "Mật khẩu quá dễ đoán (từ thông dụng hoặc dãy số). Hãy dùng một câu dài dễ nhớ.".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_blocking("một câu dài dễ nhớ 2026").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_blocking("một câu dài dễ nhớ 2026", &hash));
        assert!(!verify_blocking("một câu dài dễ nhớ 2025", &hash));
        assert!(!verify_blocking("một câu dài dễ nhớ 2026", "not a hash"));
        // A fresh salt each time.
        assert_ne!(hash, hash_blocking("một câu dài dễ nhớ 2026").unwrap());
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("ngắn", false),
            ("12345678901", false),
            ("aaaaaaaaaaaaaaaa", false),
            ("abababababababab", false),
            ("matkhau123456", false),
            ("Password123456", false),
            ("vanthu.qt-2026!", false),
            ("qwerty12345678", false),
            ("line\nbreak-password", false),
            ("Sông Hồng chảy qua Hà Nội", true),
            ("ba con mèo đen 42", true),
            ("correct horse battery", true),
            ("Tr0ub4dor&3xyz", true),
        ];
        for (password, ok) in cases {
            let verdict = check_strength(password, "vanthu.qt");
            assert_eq!(verdict.is_ok(), *ok, "{password}: {verdict:?}");
        }
    }
}
