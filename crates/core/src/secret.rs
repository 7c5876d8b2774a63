//! Is a signing secret fit to sign tokens? Whoever knows the secret can mint an access token
//! for any user and sign media URLs, so a secret that was ever published (in this repository,
//! its docs or examples) or that a person made up is refused at start-up.
//!
//! Rules: at least 32 bytes; not one of the values this project ever shipped; and no pattern
//! that zxcvbn can see (it rates a string by its cheapest explanation: repeats, sequences,
//! keyboard walks, common passwords), so placeholders like `change-me-change-me-…` are refused
//! however long, while any random string (`openssl rand -base64 48`) passes.

/// Every secret that has appeared in the repository (compose fallback, tests, benchmarks, docs).
/// They are public: a deployment using one is open to anyone who has read the repository.
const PUBLISHED: &[&str] = &[
    "change-me-change-me-change-me-change-me-0123",
    "test-secret-test-secret-test-secret-0123456789",
    "justus-bench-secret-justus-bench-secret-0123",
    "cluster-secret-cluster-secret-cluster-secret-0123",
];

/// Shortest accepted secret, in bytes.
pub const MIN_BYTES: usize = 32;
/// zxcvbn's estimated guesses (log10) a secret must reach: its ceiling (u64::MAX, ~10^19.3), so
/// no repeat, sequence, keyboard walk or common password makes it any cheaper.
const MIN_GUESSES_LOG10: f64 = 19.0;

/// Why a secret was refused (shown at start-up, never with the secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeakSecret {
    TooShort,
    Published,
    Guessable,
}

impl std::fmt::Display for WeakSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooShort => "must be at least 32 bytes",
            Self::Published => {
                "is a published example value that anyone can read; generate one with `openssl rand -base64 48`"
            }
            Self::Guessable => {
                "is guessable (a pattern, words or repeats); generate one with `openssl rand -base64 48`"
            }
        })
    }
}

/// Checks a signing secret.
pub fn check_signing_secret(secret: &[u8]) -> Result<(), WeakSecret> {
    if secret.len() < MIN_BYTES {
        return Err(WeakSecret::TooShort);
    }
    let trimmed = secret.trim_ascii();
    if PUBLISHED.iter().any(|p| p.as_bytes() == trimmed) {
        return Err(WeakSecret::Published);
    }
    if guesses_log10(&String::from_utf8_lossy(trimmed)) < MIN_GUESSES_LOG10 {
        return Err(WeakSecret::Guessable);
    }
    Ok(())
}

/// zxcvbn's estimate of the guesses an attacker needs. The first 128 characters are plenty
/// (zxcvbn is quadratic in length).
fn guesses_log10(text: &str) -> f64 {
    let probe: String = text.chars().take(128).collect();
    zxcvbn::zxcvbn(&probe, &[]).guesses_log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_and_made_up_secrets_are_refused() {
        for s in PUBLISHED {
            assert_eq!(
                check_signing_secret(s.as_bytes()),
                Err(WeakSecret::Published),
                "{s}"
            );
        }
        for s in [
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "0123456789012345678901234567890123456789",
            "changemechangemechangemechangemechangeme",
            "qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfgh",
            "password-password-password-password-password",
        ] {
            assert_eq!(
                check_signing_secret(s.as_bytes()),
                Err(WeakSecret::Guessable),
                "{s}"
            );
        }
        assert_eq!(check_signing_secret(b"short"), Err(WeakSecret::TooShort));
    }

    #[test]
    fn generated_secrets_pass() {
        // Shapes `openssl rand -base64 48` and `-hex 32` produce.
        for s in [
            "pJ8v3qk2Wm1xZr0N9cT7yLbQe4uHfG6sDaV5oIjK+E2hXw/RnYt8MzUlCg1BdPqS",
            "9f2c4e1a7b3d8e6f0a5c2b9d4e7f1a3c6b8d0e2f4a6c8e1b3d5f7a9c0e2b4d6f",
        ] {
            assert_eq!(check_signing_secret(s.as_bytes()), Ok(()), "{s}");
        }
    }
}
