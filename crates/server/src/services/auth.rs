//! Logging in and out, and turning a `token` header back into a user. Passwords are argon2 hashes;
//! tokens are 256 random bits kept only as SHA-256 hashes; sessions end on idle and absolute expiry;
//! failed logins are throttled per user name and per client address.

use super::{Result, ServiceError, Services};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use bankgate_domain::ids::{DeviceId, UserId};
use bankgate_store::{DeviceLogin, SessionRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;
use time::OffsetDateTime;

/// The one login channel this server accepts: web banking with a user name and password.
pub const CHANNEL_INTERNET: &str = "internet";

/// What a login presents.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub channel: String,
    pub user_name: String,
    pub password: String,
    /// The client's own name for the device, if it sent one.
    pub device_tag: Option<String>,
    pub platform: Option<String>,
    pub client_addr: IpAddr,
}

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub token: String,
    pub user_id: UserId,
    pub expires_at: OffsetDateTime,
}

/// The caller of an authenticated request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub token_hash: String,
}

/// How often a session's last-seen time is written: reads stay write-free between these.
const TOUCH_EVERY: Duration = Duration::from_secs(30);

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("password hashing: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so both failures take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown users").unwrap_or_default())
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Services {
    pub async fn login(&self, request: LoginRequest) -> Result<LoginOutcome> {
        if request.channel != CHANNEL_INTERNET {
            return Err(ServiceError::invalid(
                "UNSUPPORTED_CHANNEL",
                format!(
                    "channel {:?} is not supported; use \"internet\" with userName and password",
                    request.channel
                ),
            ));
        }
        let user_key = format!("user:{}", request.user_name.to_lowercase());
        let addr_key = format!("addr:{}", request.client_addr);
        self.check_throttle(&user_key, &addr_key).await?;

        let credentials = self.store.find_credentials(&request.user_name).await?;
        let password = request.password.clone();
        let (user_id, ok) = tokio::task::spawn_blocking(move || match credentials {
            Some((id, hash)) => {
                let ok = password_matches(&password, &hash);
                (Some(id), ok)
            }
            None => {
                // Spend the same work as a real check, so timing does not reveal unknown users.
                let _ = password_matches(&password, decoy_hash());
                (None, false)
            }
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("password check: {e}")))?;
        let now = self.clock.now();
        let Some(user_id) = user_id.filter(|_| ok) else {
            self.store
                .record_login_failure(&[&user_key, &addr_key], now)
                .await?;
            return Err(ServiceError::BadCredentials);
        };
        self.store
            .clear_login_failures(&user_key, now - self.settings.login_window)
            .await?;
        self.open_session(&user_id, &request, now).await
    }

    async fn check_throttle(&self, user_key: &str, addr_key: &str) -> Result<()> {
        let now = self.clock.now();
        // A failure counts for exactly one window: at `failed_at + window` (what Retry-After promises)
        // it has expired. The store compares `failed_at >= since` in whole milliseconds.
        let since = now - self.settings.login_window + time::Duration::milliseconds(1);
        let limits = [
            (user_key, self.settings.login_max_failures_per_user),
            (addr_key, self.settings.login_max_failures_per_address),
        ];
        for (key, limit) in limits {
            let (count, oldest) = self.store.login_failures_since(key, since).await?;
            if count >= limit {
                let frees_at = oldest.unwrap_or(now) + self.settings.login_window;
                let wait = (frees_at - now).max(time::Duration::seconds(1));
                return Err(ServiceError::RateLimited {
                    retry_after: wait.unsigned_abs(),
                });
            }
        }
        Ok(())
    }

    async fn open_session(
        &self,
        user_id: &UserId,
        request: &LoginRequest,
        now: OffsetDateTime,
    ) -> Result<LoginOutcome> {
        let device_key = request.device_tag.as_deref().unwrap_or("web");
        let device = self
            .store
            .record_device_login(&DeviceLogin {
                user_id,
                channel: &request.channel,
                device_key,
                platform: request.platform.as_deref(),
                at: now,
            })
            .await?;
        if !device.is_active {
            return Err(ServiceError::DeviceBlocked);
        }
        let token = new_token();
        let expires_at = now + self.settings.session_absolute;
        self.store
            .create_session(&SessionRecord {
                token_hash: token_hash(&token),
                user_id: user_id.clone(),
                device_id: device.id,
                created_at: now,
                last_seen_at: now,
                expires_at,
                revoked_at: None,
            })
            .await?;
        Ok(LoginOutcome {
            token,
            user_id: user_id.clone(),
            expires_at,
        })
    }

    /// The caller behind a token, if the session is live.
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
        let hash = token_hash(token);
        let session = match self.memos.sessions.get(&hash) {
            Some(session) => session,
            None => {
                let session = self
                    .store
                    .find_session(&hash)
                    .await?
                    .ok_or(ServiceError::Unauthenticated)?;
                self.memos.sessions.insert(hash.clone(), session.clone());
                session
            }
        };
        let now = self.clock.now();
        let idle_deadline = session.last_seen_at + self.settings.session_idle;
        if session.revoked_at.is_some() || now >= session.expires_at || now >= idle_deadline {
            return Err(ServiceError::Unauthenticated);
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(&hash, now).await?;
            self.memos.sessions.insert(
                hash.clone(),
                SessionRecord {
                    last_seen_at: now,
                    ..session.clone()
                },
            );
        }
        Ok(Caller {
            user_id: session.user_id,
            device_id: session.device_id,
            token_hash: hash,
        })
    }

    pub async fn logout(&self, caller: &Caller) -> Result<()> {
        let now = self.clock.now();
        self.store.revoke_session(&caller.token_hash, now).await?;
        // The store's `session` event closes open push connections on this session (on every node).
        self.memos.sessions.remove(&caller.token_hash);
        Ok(())
    }

    /// Whether a push connection's session still stands, asked of the store (a logout or a barred
    /// device on another node is not in this node's memo yet). An open connection is activity: it keeps
    /// the session from idling out, never past its absolute expiry.
    pub async fn push_session_live(&self, caller: &Caller) -> Result<bool> {
        let Some(session) = self.store.find_session(&caller.token_hash).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        if session.revoked_at.is_some() || now >= session.expires_at {
            self.memos.sessions.remove(&caller.token_hash);
            return Ok(false);
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(&caller.token_hash, now).await?;
            self.memos.sessions.remove(&caller.token_hash);
        }
        Ok(true)
    }
}
