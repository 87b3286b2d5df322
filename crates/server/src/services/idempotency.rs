//! Idempotency-Key handling as a service: fingerprinting a request and deciding, with the store, whether
//! to run it, replay its stored response, or refuse. The HTTP layer wraps state-changing routes with it.

use super::{Result, Services};
use bankgate_domain::ids::UserId;
use bankgate_store::{IdempotencyBegin, StoredResponse};
use sha2::{Digest, Sha256};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The fingerprint of a request: method, path and body. A replay must match it exactly.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    super::auth::hex(&hasher.finalize())
}

impl Services {
    pub async fn begin_idempotent(
        &self,
        user: &UserId,
        key: &str,
        fingerprint: &str,
    ) -> Result<IdempotencyBegin> {
        Ok(self
            .store
            .begin_idempotent(user, key, fingerprint, self.clock.now())
            .await?)
    }

    pub async fn complete_idempotent(
        &self,
        user: &UserId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<()> {
        Ok(self.store.complete_idempotent(user, key, response).await?)
    }

    pub async fn abandon_idempotent(&self, user: &UserId, key: &str) -> Result<()> {
        Ok(self.store.abandon_idempotent(user, key).await?)
    }
}
