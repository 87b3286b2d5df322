//! PIN storage. The sandbox is the issuer, so it keeps PINs, but only as salted argon2 hashes: nothing
//! can read a PIN back, and nothing in the sandbox's API returns one.

use crate::error::SandboxError;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use bankgate_domain::card::Pin;
use rand::Rng;

/// Hashes `pin` into a PHC string (`$argon2id$...`). Argon2 is slow on purpose, so the work runs on the
/// blocking pool instead of an async worker.
pub(crate) async fn hash_pin(pin: &Pin) -> Result<String, SandboxError> {
    let digits = pin.digits().to_owned();
    tokio::task::spawn_blocking(move || hash_digits(&digits))
        .await
        .map_err(|e| SandboxError::PinHash(e.to_string()))?
}

fn hash_digits(digits: &str) -> Result<String, SandboxError> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| SandboxError::PinHash(e.to_string()))?;
    let hash = Argon2::default()
        .hash_password(digits.as_bytes(), &salt)
        .map_err(|e| SandboxError::PinHash(e.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[tokio::test]
    async fn hashes_are_salted_and_verify() {
        let pin = Pin::parse_digits("4921").unwrap();
        let (a, b) = (hash_pin(&pin).await.unwrap(), hash_pin(&pin).await.unwrap());
        assert_ne!(a, b, "a fresh salt every time");
        assert!(a.starts_with("$argon2id$") && !a.contains("4921"));
        let parsed = PasswordHash::new(&a).unwrap();
        assert!(Argon2::default().verify_password(b"4921", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"1111", &parsed).is_err());
    }
}
