//! Messages between users and support (section 13). Each message is stored once per user, sender and
//! dedup code, and adding or reading one appends a `messages` event in the same transaction.

use crate::events::{append_event, EventKind};
use crate::{Result, Store};
use bankgate_db::Conn;
use bankgate_domain::ids::{MessageId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as};
use time::OffsetDateTime;

/// What a message may carry besides its text (support's messages use them; users' have none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageDetails {
    pub title: Option<String>,
    pub href: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    pub priority_code: Option<String>,
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub id: MessageId,
    /// The user whose conversation it belongs to.
    pub user: &'a UserId,
    pub from: &'a str,
    pub to: &'a str,
    pub text: &'a str,
    pub details: &'a MessageDetails,
    /// Another message of the same user with this code is the same message.
    pub dedup_code: &'a str,
    pub at: OffsetDateTime,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: MessageId,
    pub user_id: UserId,
    pub from: String,
    pub to: String,
    pub text: String,
    pub details: MessageDetails,
    pub dedup_code: String,
    pub read_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "id, user_id, from_id, to_id, text, title, href, category, severity, \
     priority_code, dedup_code, read_at, created_at";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    user_id: String,
    from_id: String,
    to_id: String,
    text: String,
    title: Option<String>,
    href: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    priority_code: Option<String>,
    dedup_code: String,
    read_at: Option<i64>,
    created_at: i64,
}

impl From<MessageRow> for MessageRecord {
    fn from(row: MessageRow) -> Self {
        MessageRecord {
            id: MessageId::from_trusted(row.id),
            user_id: UserId::from_trusted(row.user_id),
            from: row.from_id,
            to: row.to_id,
            text: row.text,
            details: MessageDetails {
                title: row.title,
                href: row.href,
                category: row.category,
                severity: row.severity,
                priority_code: row.priority_code,
            },
            dedup_code: row.dedup_code,
            read_at: row.read_at.map(from_millis),
            created_at: from_millis(row.created_at),
        }
    }
}

async fn find(conn: &mut Conn, user: &UserId, id: &str) -> Result<Option<MessageRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE user_id = $1 AND id = $2");
    let row: Option<MessageRow> = query_as(&sql)
        .bind(user.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(MessageRecord::from))
}

/// The message the sender of `message` already sent with its dedup code, if any.
async fn find_first(conn: &mut Conn, message: &NewMessage<'_>) -> Result<Option<MessageRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE user_id = $1 AND from_id = $2 AND dedup_code = $3"
    );
    let row: Option<MessageRow> = query_as(&sql)
        .bind(message.user.as_str())
        .bind(message.from)
        .bind(message.dedup_code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(MessageRecord::from))
}

/// Stores a message inside the caller's transaction, with its `messages` event, unless the sender
/// already sent one with its dedup code. True when it was stored.
pub(crate) async fn insert_message(
    conn: &mut Conn,
    engine: bankgate_db::Engine,
    message: &NewMessage<'_>,
) -> Result<bool> {
    if find_first(conn, message).await?.is_some() {
        return Ok(false);
    }
    let at = to_millis(message.at);
    let seq = append_event(
        conn,
        engine,
        message.user,
        EventKind::Messages,
        message.id.as_str(),
        at,
    )
    .await?;
    let inserted = query(
        "INSERT INTO messages (id, user_id, seq, from_id, to_id, text, title, href, category, severity, \
         priority_code, dedup_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (user_id, from_id, dedup_code) DO NOTHING",
    )
    .bind(message.id.as_str())
    .bind(message.user.as_str())
    .bind(seq)
    .bind(message.from)
    .bind(message.to)
    .bind(message.text)
    .bind(message.details.title.as_deref())
    .bind(message.details.href.as_deref())
    .bind(message.details.category.as_deref())
    .bind(message.details.severity.as_deref())
    .bind(message.details.priority_code.as_deref())
    .bind(message.dedup_code)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Zero: a concurrent send with the same code won. Its event then names no message, and is skipped.
    Ok(inserted == 1)
}

impl Store {
    /// Stores a message, or finds the one the user already has with the same dedup code. True when it
    /// is new.
    pub async fn add_message(&self, message: &NewMessage<'_>) -> Result<(MessageRecord, bool)> {
        let mut tx = self.db.write().begin().await?;
        if !insert_message(&mut tx, self.db.engine(), message).await? {
            tx.rollback().await?;
            let mut conn = self.db.write().acquire().await?;
            let first = find_first(&mut conn, message)
                .await?
                .ok_or(crate::StoreError::Missing("message"))?;
            return Ok((first, false));
        }
        let stored = find(&mut tx, message.user, message.id.as_str())
            .await?
            .ok_or(crate::StoreError::Missing("message"))?;
        tx.commit().await?;
        self.announce(message.user);
        Ok((stored, true))
    }

    /// The user's messages, oldest first: the latest `limit`, or, after `since`, the first `limit`
    /// created after it (so a client pages forward from the last one it has).
    pub async fn messages(
        &self,
        user: &UserId,
        since: Option<OffsetDateTime>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>> {
        let sql = match since {
            Some(_) => format!(
                "SELECT {COLUMNS} FROM messages WHERE user_id = $1 AND created_at > $2 \
                 ORDER BY seq LIMIT $3"
            ),
            None => format!(
                "SELECT {COLUMNS} FROM messages WHERE user_id = $1 AND created_at > $2 \
                 ORDER BY seq DESC LIMIT $3"
            ),
        };
        let rows: Vec<MessageRow> = query_as(&sql)
            .bind(user.as_str())
            .bind(since.map_or(i64::MIN, to_millis))
            .bind(i64::from(limit))
            .fetch_all(self.db.read())
            .await?;
        let mut found: Vec<MessageRecord> = rows.into_iter().map(MessageRecord::from).collect();
        if since.is_none() {
            found.reverse();
        }
        Ok(found)
    }

    /// Whether `from` already sent the user a message with `dedup_code`.
    pub async fn message_sent(&self, user: &UserId, from: &str, dedup_code: &str) -> Result<bool> {
        let row: Option<(String,)> = query_as(
            "SELECT id FROM messages WHERE user_id = $1 AND from_id = $2 AND dedup_code = $3",
        )
        .bind(user.as_str())
        .bind(from)
        .bind(dedup_code)
        .fetch_optional(self.db.read())
        .await?;
        Ok(row.is_some())
    }

    /// One of the user's messages.
    pub async fn message(&self, user: &UserId, id: &str) -> Result<Option<MessageRecord>> {
        let mut conn = self.db.read().acquire().await?;
        find(&mut conn, user, id).await
    }

    /// Marks one of the user's messages read (the first time counts); None when it is not theirs.
    pub async fn mark_message_read(
        &self,
        user: &UserId,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<Option<MessageRecord>> {
        let at = to_millis(at);
        let mut tx = self.db.write().begin().await?;
        let changed = query(
            "UPDATE messages SET read_at = $1 WHERE user_id = $2 AND id = $3 AND read_at IS NULL",
        )
        .bind(at)
        .bind(user.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            append_event(&mut tx, self.db.engine(), user, EventKind::Messages, id, at).await?;
        }
        let found = find(&mut tx, user, id).await?;
        tx.commit().await?;
        if changed {
            self.announce(user);
        }
        Ok(found)
    }
}
