//! Passwords: the rules people are asked to follow (the NCSC's advice:
//! length over complexity, and no password that is known to be common),
//! and Argon2id hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 256;

/// Passwords that appear again and again in breach lists, and words that
/// make the base of many others. Compared without case, spaces or digits
/// and symbols at the ends, so "Password123!" is refused as "password".
const DENY: &[&str] = &[
    "password",
    "passw0rd",
    "p@ssword",
    "p@ssw0rd",
    "qwerty",
    "qwertyuiop",
    "qwertyuiopasdfghjkl",
    "asdfghjkl",
    "zxcvbnm",
    "letmein",
    "welcome",
    "welcomehome",
    "iloveyou",
    "admin",
    "administrator",
    "changeme",
    "default",
    "secret",
    "trustno1",
    "football",
    "baseball",
    "monkey",
    "dragon",
    "sunshine",
    "princess",
    "shadow",
    "master",
    "superman",
    "batman",
    "starwars",
    "whatever",
    "freedom",
    "hello",
    "helloworld",
    "abc",
    "abcdef",
    "abcdefgh",
    "abcdefghijkl",
    "abcabc",
    "abcd",
    "qazwsx",
    "qazwsxedc",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "zaq12wsx",
    "nhs",
    "nhsengland",
    "healthcare",
    "hospital",
    "doctor",
    "nurse",
    "summer",
    "winter",
    "spring",
    "autumn",
    "january",
    "monday",
    "london",
    "england",
    "liverpool",
    "chelsea",
    "arsenal",
    "manchester",
    "passwordpassword",
    "mypassword",
    "thisismypassword",
    "correcthorsebatterystaple",
    "standards",
    "standardsdirectory",
    "interoperability",
    "computer",
    "internet",
    "login",
    "access",
    "letmeinnow",
    "opensesame",
    "qwerty123",
    "password1",
    "aaaaaa",
    "111111",
    "123123",
];

fn core_of(password: &str) -> String {
    password
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_matches(|c: char| !c.is_alphabetic())
        .to_owned()
}

/// Checks a new password; the error says what to change.
pub fn check(password: &str, email: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "Password must be at least {MIN_LENGTH} characters. Three random words together make a good one."
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!("Password must be at most {MAX_LENGTH} characters."));
    }
    let core = core_of(password);
    let chars: Vec<char> = password.chars().collect();
    let one_character = chars.iter().all(|c| *c == chars[0]);
    let sequence = chars.windows(2).all(|w| w[1] as u32 == w[0] as u32 + 1);
    if one_character || sequence || core.is_empty() || DENY.contains(&core.as_str()) {
        return Err("Password is too common and easy to guess. Choose another, such as three random words.".into());
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 3 && core.contains(&local) {
        return Err("Password must not contain your email address.".into());
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    // OWASP's baseline for Argon2id: 19 MiB, 2 passes, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"),
    )
}

/// An Argon2id hash in PHC string form (algorithm, parameters and salt
/// included).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// Spends as long as checking a real password, so a wrong email takes as
/// long to refuse as a wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("an unused password for timing").unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_over_complexity() {
        assert!(check("short", "a@b.c").is_err());
        assert!(check("correct horse battery", "a@b.c").is_ok());
        assert!(check("purple kettle tuesday", "a@b.c").is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        for p in ["Password123!", "passwordpassword", "  qwertyuiop  ", "111111111111", "abcdefghijkl", "Welcome2024!!"]
        {
            assert!(check(p, "a@b.c").is_err(), "{p}");
        }
    }

    #[test]
    fn the_email_is_not_a_password() {
        assert!(check("jane.smith2026!", "jane.smith@nhs.net").is_err());
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("purple kettle tuesday").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("purple kettle tuesday", &h));
        assert!(!verify("purple kettle wednesday", &h));
        assert!(!verify("x", "not a hash"));
    }
}
