//! Password hashes: argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! The parameters are the `argon2` crate's defaults, which are OWASP's recommendation for
//! argon2id (19 MiB of memory, 2 passes, 1 lane): tens of milliseconds per hash on a server, slow
//! enough to make offline guessing expensive and fast enough that a sign-in does not wait. The
//! salt (16 bytes) comes from the operating system's random generator. Verification uses the
//! parameters stored in the hash (older hashes keep working; [`needs_rehash`] says when to
//! replace one at the next sign-in) and compares the result in constant time.
//!
//! A sign-in for a login that does not exist must not answer faster than one with a wrong
//! password, or the timing tells which accounts exist: [`verify_password`] with `None` verifies
//! the attempt against the hash of a dummy password instead, and answers `false`.

use std::sync::LazyLock;

use argon2::password_hash::Error as HashError;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::AuthError;

/// The fewest characters a new password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The most bytes a password may have (a longer one is refused before any hashing, so a huge
/// body cannot make the server hash megabytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The hasher for new hashes: argon2id, version 0x13, the recommended parameters.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// The hash a missing account's sign-in is checked against: the same algorithm and parameters
/// as a real one (so the same cost), made once per process from a fixed password and salt.
/// `None` only if hashing itself failed, in which case an attempt is hashed afresh instead (the
/// same cost again).
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    hasher()
        .hash_password_with_salt(b"tradia: no such account", b"tradia-dummy-salt")
        .ok()
        .map(|hash| hash.to_string())
});

/// Computes the dummy hash now (call it at start-up), so the first sign-in for a missing login
/// does not pay for making it: that would be the one timing difference left.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Checks a new password against the policy: at least [`MIN_PASSWORD_CHARS`] characters, at
/// most [`MAX_PASSWORD_BYTES`] bytes.
pub fn check_new_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::WeakPassword("a password has at least 8 characters"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::WeakPassword("a password has at most 1024 bytes"));
    }
    Ok(())
}

/// Hashes `password` for storage: a PHC string with a fresh random salt. Refuses a password over
/// [`MAX_PASSWORD_BYTES`] (the policy's other rules are [`check_new_password`]'s).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::WeakPassword("a password has at most 1024 bytes"));
    }
    hasher().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(AuthError::Hashing)
}

/// Checks a sign-in attempt against the account's stored hash; `stored` is `None` when the
/// login does not exist or has no local password, and then the answer is `false` after the same
/// work as a real check. [`AuthError::MalformedHash`] when the stored hash cannot be verified (an
/// unknown algorithm, a damaged string): the account cannot sign in with a password until an
/// administrator sets a new one.
pub fn verify_password(password: &str, stored: Option<&str>) -> Result<bool, AuthError> {
    let Some(stored) = stored else {
        verify_dummy(password);
        return Ok(false);
    };
    let parsed = PasswordHash::new(stored).map_err(|_| AuthError::MalformedHash)?;
    if password.len() > MAX_PASSWORD_BYTES {
        // Refused unhashed, whether the account exists or not (the length alone decides).
        return Ok(false);
    }
    match argon2_verify(password, &parsed) {
        Ok(()) => Ok(true),
        Err(HashError::PasswordInvalid) => Ok(false),
        Err(_) => Err(AuthError::MalformedHash),
    }
}

/// One argon2id verification: the only place either path verifies, so a test can count them.
fn argon2_verify(password: &str, hash: &PasswordHash) -> Result<(), HashError> {
    #[cfg(test)]
    tests::VERIFICATIONS.with(|n| n.set(n.get() + 1));
    hasher().verify_password(password.as_bytes(), hash)
}

/// Spends what a real verification spends, for a login that does not exist.
fn verify_dummy(password: &str) {
    if password.len() > MAX_PASSWORD_BYTES {
        return;
    }
    let dummy = DUMMY_HASH.as_deref().and_then(|h| PasswordHash::new(h).ok());
    match dummy {
        Some(dummy) => {
            let _ = argon2_verify(password, &dummy);
        }
        None => {
            let _ = hasher().hash_password(password.as_bytes());
        }
    }
}

/// True when `stored` was made with another algorithm or other parameters than new hashes are:
/// after a successful sign-in, hash the password again and store the new hash.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    let current = Params::DEFAULT;
    let same_params = Params::try_from(&parsed).is_ok_and(|p| {
        (p.m_cost(), p.t_cost(), p.p_cost())
            == (current.m_cost(), current.t_cost(), current.p_cost())
    });
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(Version::V0x13.into())
        || !same_params
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_with_fresh_salts() {
        let a = hash_password("correct horse battery staple").unwrap();
        let b = hash_password("correct horse battery staple").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!needs_rehash(&a));
    }

    #[test]
    fn verification_accepts_only_the_password() {
        let stored = hash_password("Zéphyr 2026!").unwrap();
        assert!(verify_password("Zéphyr 2026!", Some(&stored)).unwrap());
        assert!(!verify_password("zéphyr 2026!", Some(&stored)).unwrap());
        assert!(!verify_password("", Some(&stored)).unwrap());
        assert!(!verify_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), Some(&stored)).unwrap());
    }

    #[test]
    fn a_missing_account_is_refused() {
        assert!(!verify_password("anything", None).unwrap());
        // The dummy hash is a real argon2id hash with the current parameters (so the same cost).
        warm_up();
        let dummy = DUMMY_HASH.as_deref().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!needs_rehash(dummy));
    }

    thread_local! {
        /// argon2id verifications made on this test's thread.
        pub(super) static VERIFICATIONS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    fn verifications_during(f: impl FnOnce()) -> u32 {
        let before = VERIFICATIONS.with(|n| n.get());
        f();
        VERIFICATIONS.with(|n| n.get()) - before
    }

    #[test]
    fn a_missing_account_costs_a_real_verification() {
        // Counted, not timed: a missing login runs one argon2id verification against a dummy
        // hash made with the same parameters (checked above), exactly as a wrong password does.
        warm_up();
        let stored = hash_password("the real one").unwrap();
        let wrong =
            verifications_during(|| assert!(!verify_password("guess", Some(&stored)).unwrap()));
        let missing = verifications_during(|| assert!(!verify_password("guess", None).unwrap()));
        assert_eq!((wrong, missing), (1, 1));
    }

    #[test]
    fn malformed_and_foreign_hashes() {
        assert!(matches!(verify_password("x", Some("not a hash")), Err(AuthError::MalformedHash)));
        assert!(matches!(
            verify_password("x", Some("$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")),
            Err(AuthError::MalformedHash)
        ));
        assert!(needs_rehash("not a hash"));
        // A hash made with weaker parameters still verifies, and asks to be replaced.
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"old password", b"0123456789abcdef")
        .unwrap()
        .to_string();
        assert!(verify_password("old password", Some(&weak)).unwrap());
        assert!(needs_rehash(&weak));
    }

    #[test]
    fn the_policy_wants_eight_characters() {
        assert!(matches!(check_new_password("short"), Err(AuthError::WeakPassword(_))));
        assert!(check_new_password("éèàùâêîô").is_ok(), "characters, not bytes");
        assert!(check_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(matches!(
            hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(AuthError::WeakPassword(_))
        ));
    }
}
