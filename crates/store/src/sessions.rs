//! Devices, sessions (tokens, kept only as hashes) and the failed-login record behind throttling.

use crate::events::EventKind;
use crate::{DeviceLogin, DeviceRecord, Result, SessionRecord, Store};
use bankgate_domain::ids::{DeviceId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as};
use time::OffsetDateTime;

type DeviceRow = (
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
);
type SessionRow = (String, String, String, i64, i64, i64, Option<i64>);

const DEVICE_COLUMNS: &str =
    "d.id, d.user_id, d.channel, d.platform, d.is_active, d.created_at, d.last_seen_at, \
     (SELECT MAX(s.expires_at) FROM sessions s WHERE s.device_id = d.id AND s.revoked_at IS NULL)";

fn device_from_row(row: DeviceRow) -> DeviceRecord {
    let (id, user_id, channel, platform, active, created, seen, session_expiry) = row;
    DeviceRecord {
        id: DeviceId::from_trusted(id),
        user_id: UserId::from_trusted(user_id),
        channel,
        platform,
        is_active: active != 0,
        created_at: from_millis(created),
        last_seen_at: from_millis(seen),
        session_expires_at: session_expiry.map(from_millis),
    }
}

fn session_from_row(
    (hash, user, device, created, seen, expires, revoked): SessionRow,
) -> SessionRecord {
    SessionRecord {
        token_hash: hash,
        user_id: UserId::from_trusted(user),
        device_id: DeviceId::from_trusted(device),
        created_at: from_millis(created),
        last_seen_at: from_millis(seen),
        expires_at: from_millis(expires),
        revoked_at: revoked.map(from_millis),
    }
}

impl Store {
    /// Finds or creates the device a login comes from and marks it seen. The returned record says whether
    /// the device is still allowed to log in.
    pub async fn record_device_login(&self, login: &DeviceLogin<'_>) -> Result<DeviceRecord> {
        let at = to_millis(login.at);
        let (id,): (String,) = query_as(
            "INSERT INTO devices (id, user_id, channel, device_key, platform, is_active, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6) \
             ON CONFLICT (user_id, channel, device_key) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
             platform = COALESCE(excluded.platform, devices.platform) RETURNING id",
        )
        .bind(DeviceId::generate().as_str())
        .bind(login.user_id.as_str())
        .bind(login.channel)
        .bind(login.device_key)
        .bind(login.platform)
        .bind(at)
        .fetch_one(self.db().write())
        .await?;
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.id = $1");
        let row: DeviceRow = query_as(&sql)
            .bind(&id)
            .fetch_one(self.db().write())
            .await?;
        Ok(device_from_row(row))
    }

    pub async fn list_devices(&self, user: &UserId) -> Result<Vec<DeviceRecord>> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices d WHERE d.user_id = $1 ORDER BY d.created_at, d.id");
        let rows: Vec<DeviceRow> = query_as(&sql)
            .bind(user.as_str())
            .fetch_all(self.db().read())
            .await?;
        Ok(rows.into_iter().map(device_from_row).collect())
    }

    /// Allows or bars one of the user's devices; barring it also ends its sessions. Returns false when the
    /// device is not the user's.
    pub async fn set_device_active(
        &self,
        user: &UserId,
        device: &DeviceId,
        active: bool,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.db().write().begin().await?;
        let changed = query("UPDATE devices SET is_active = $3 WHERE id = $1 AND user_id = $2")
            .bind(device.as_str())
            .bind(user.as_str())
            .bind(i64::from(active))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 1 && !active {
            query(
                "UPDATE sessions SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
            )
            .bind(device.as_str())
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await?;
            // Open push connections of that device close (on every node).
            self.commit_with_events(tx, user, EventKind::Session, &[device.as_str()], at)
                .await?;
            return Ok(true);
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    pub async fn create_session(&self, session: &SessionRecord) -> Result<()> {
        query(
            "INSERT INTO sessions (token_hash, user_id, device_id, created_at, last_seen_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id.as_str())
        .bind(session.device_id.as_str())
        .bind(to_millis(session.created_at))
        .bind(to_millis(session.last_seen_at))
        .bind(to_millis(session.expires_at))
        .execute(self.db().write())
        .await?;
        Ok(())
    }

    pub async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let row: Option<SessionRow> = query_as(
            "SELECT token_hash, user_id, device_id, created_at, last_seen_at, expires_at, revoked_at \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.db().read())
        .await?;
        Ok(row.map(session_from_row))
    }

    pub async fn touch_session(&self, token_hash: &str, at: OffsetDateTime) -> Result<()> {
        query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2")
            .bind(token_hash)
            .bind(to_millis(at))
            .execute(self.db().write())
            .await?;
        Ok(())
    }

    /// Ends a session; true if it was live.
    /// Ends a session; its user's other push connections learn of it from the `session` event appended
    /// in the same transaction. False when it had already ended.
    pub async fn revoke_session(&self, token_hash: &str, at: OffsetDateTime) -> Result<bool> {
        let mut tx = self.db().write().begin().await?;
        let ended: Option<(String, String)> = query_as(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL \
             RETURNING user_id, device_id",
        )
        .bind(token_hash)
        .bind(to_millis(at))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user, device)) = ended else {
            return Ok(false);
        };
        let user = UserId::from_trusted(user);
        self.commit_with_events(tx, &user, EventKind::Session, &[device.as_str()], at)
            .await?;
        Ok(true)
    }

    /// Notes a failed login against each throttle key (the user name, the client address).
    pub async fn record_login_failure(&self, keys: &[&str], at: OffsetDateTime) -> Result<()> {
        let mut tx = self.db().write().begin().await?;
        for key in keys {
            query("INSERT INTO login_failures (throttle_key, failed_at) VALUES ($1, $2)")
                .bind(*key)
                .bind(to_millis(at))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many failures `key` has since `since`, and when the oldest of them was.
    pub async fn login_failures_since(
        &self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<(i64, Option<OffsetDateTime>)> {
        let (count, oldest): (i64, Option<i64>) =
            query_as("SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE throttle_key = $1 AND failed_at >= $2")
                .bind(key)
                .bind(to_millis(since))
                .fetch_one(self.db().read())
                .await?;
        Ok((count, oldest.map(from_millis)))
    }

    /// Forgets failures of `key` (after a successful login) and every failure older than `before`.
    pub async fn clear_login_failures(&self, key: &str, before: OffsetDateTime) -> Result<()> {
        query("DELETE FROM login_failures WHERE throttle_key = $1 OR failed_at < $2")
            .bind(key)
            .bind(to_millis(before))
            .execute(self.db().write())
            .await?;
        Ok(())
    }
}
