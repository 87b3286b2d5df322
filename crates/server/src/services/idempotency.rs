//! Idempotency-Key handling as a service: fingerprinting a request and deciding, with the store, whether
//! to run it, replay its stored response, or refuse. The HTTP layer wraps state-changing routes with it.

use super::{Result, Services};
use bankgate_domain::ids::UserId;
use bankgate_store::{IdempotencyBegin, IdempotencyClaim, StoredResponse};
use sha2::{Digest, Sha256};

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The fingerprint of a request: method, path and body. A JSON body counts by its content, not its
/// layout: a client retrying may serialize the same object again with other spacing or key order, and
/// that is the same request. Any other body counts byte for byte.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            hasher.update(b"json\0");
            hash_json(&mut hasher, &json);
        }
        Err(_) => {
            hasher.update(b"raw\0");
            hasher.update(body);
        }
    }
    super::auth::hex(&hasher.finalize())
}

/// Feeds `value` to the hasher with object keys in sorted order, each part length-prefixed so that no
/// two different values feed the same bytes.
fn hash_json(hasher: &mut Sha256, value: &serde_json::Value) {
    use serde_json::Value;
    let text = |hasher: &mut Sha256, tag: u8, s: &str| {
        hasher.update([tag]);
        hasher.update((s.len() as u64).to_be_bytes());
        hasher.update(s.as_bytes());
    };
    match value {
        Value::Null => hasher.update(b"n"),
        Value::Bool(b) => hasher.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => text(hasher, b'#', &n.to_string()),
        Value::String(s) => text(hasher, b's', s),
        Value::Array(items) => {
            hasher.update(b"[");
            hasher.update((items.len() as u64).to_be_bytes());
            for item in items {
                hash_json(hasher, item);
            }
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            hasher.update(b"{");
            hasher.update((entries.len() as u64).to_be_bytes());
            for (key, item) in entries {
                text(hasher, b'k', key);
                hash_json(hasher, item);
            }
        }
    }
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
        claim: IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<()> {
        Ok(self
            .store
            .complete_idempotent(user, key, claim, response)
            .await?)
    }

    pub async fn abandon_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: IdempotencyClaim,
    ) -> Result<()> {
        Ok(self.store.abandon_idempotent(user, key, claim).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::request_fingerprint;

    #[test]
    fn json_bodies_count_by_content() {
        let print = |body: &str| request_fingerprint("POST", "/x", body.as_bytes());
        let base = print(r#"{"a":1,"b":[true,null,"s"],"c":{"d":"e"}}"#);
        assert_eq!(
            base,
            print("{ \"c\": {\"d\": \"e\"},\n \"b\": [true, null, \"s\"], \"a\": 1 }")
        );
        for other in [
            r#"{"a":2,"b":[true,null,"s"],"c":{"d":"e"}}"#,
            r#"{"a":1,"b":[null,true,"s"],"c":{"d":"e"}}"#,
            r#"{"a":"1","b":[true,null,"s"],"c":{"d":"e"}}"#,
            r#"{"a":1,"b":[true,null,"s"],"c":{"d":"e"},"f":null}"#,
        ] {
            assert_ne!(base, print(other), "{other}");
        }
        assert_ne!(print(r#"["ab","c"]"#), print(r#"["a","bc"]"#));
        assert_ne!(print("{bad"), print("{bad "));
        assert_ne!(
            request_fingerprint("POST", "/x", b"{}"),
            request_fingerprint("POST", "/y", b"{}")
        );
    }
}
