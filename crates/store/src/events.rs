//! The event log behind push. A change to a user's data appends an event ([`append_event`]) as the last
//! statement of the transaction that makes the change, so no event is pushed for a change that did not
//! happen and none is missed for one that did. Events are numbered per user, in commit order (see the
//! migration `0004_push.sql`). Appending last also keeps lock order fixed: whatever rows a transaction
//! locks, the user's event counter comes after them.
//!
//! After the commit the writer announces the user ([`Store::announce`]): to this node's push connections
//! at once, and on PostgreSQL to the other nodes soon after (see `relay.rs`). Announcements are hints to
//! re-read the log, never the data.

use crate::{Result, Store};
use bankgate_db::Conn;
use bankgate_db::Engine;
use bankgate_domain::ids::UserId;
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as, Any};
use time::OffsetDateTime;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A queued action (its undo entry) was queued, ran, failed or was cancelled.
    Undo,
    /// A message was sent to or by the user, or read.
    Messages,
    /// One of the user's sessions ended (logout, a barred device): open push connections check theirs.
    Session,
    /// An account (its back-office data or the user's flags on it) changed.
    Accounts,
    /// One of the user's cards changed (its back-office data or the user's preferences on it).
    Card,
    /// The user's cards changed: a card was issued.
    Cards,
    /// A transaction arrived or changed (or the user annotated it).
    Transactions,
    /// A beneficiary was added, changed or deleted.
    Beneficiaries,
    /// The user's profile changed.
    User,
    /// One of the user's alert settings changed.
    Alerts,
}

const ALL_KINDS: [EventKind; 10] = [
    EventKind::Undo,
    EventKind::Messages,
    EventKind::Session,
    EventKind::Accounts,
    EventKind::Card,
    EventKind::Cards,
    EventKind::Transactions,
    EventKind::Beneficiaries,
    EventKind::User,
    EventKind::Alerts,
];

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Undo => "undo",
            EventKind::Messages => "messages",
            EventKind::Session => "session",
            EventKind::Accounts => "accounts",
            EventKind::Card => "card",
            EventKind::Cards => "cards",
            EventKind::Transactions => "transactions",
            EventKind::Beneficiaries => "beneficiaries",
            EventKind::User => "user",
            EventKind::Alerts => "alerts",
        }
    }

    fn parse(s: &str) -> Option<EventKind> {
        ALL_KINDS.into_iter().find(|k| k.as_str() == s)
    }
}

/// One event of a user's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Increases with every event of the user.
    pub seq: i64,
    /// None for a kind this build does not know (written by a newer one while nodes are upgraded).
    pub kind: Option<EventKind>,
    /// The id of what changed (an operation, a message, a device).
    pub subject: String,
    pub at: OffsetDateTime,
}

/// Appends an event to `user`'s log inside the caller's transaction; its number.
pub(crate) async fn append_event(
    conn: &mut Conn,
    engine: Engine,
    user: &UserId,
    kind: EventKind,
    subject: &str,
    at: i64,
) -> Result<i64> {
    append_events(conn, engine, user, &[(kind, subject)], at).await
}

/// Appends events to `user`'s log inside the caller's transaction, in order, with one counter update, one
/// insert and one notification; the number of the last (0 when there are none).
pub(crate) async fn append_events(
    conn: &mut Conn,
    engine: Engine,
    user: &UserId,
    events: &[(EventKind, &str)],
    at: i64,
) -> Result<i64> {
    let events: Vec<(&UserId, EventKind, &str)> = events
        .iter()
        .map(|(kind, subject)| (user, *kind, *subject))
        .collect();
    let lasts = append_events_of_users(conn, engine, &events, at).await?;
    Ok(lasts.get(user.as_str()).copied().unwrap_or(0))
}

/// Appends events of several users inside the caller's transaction: each user's counter moves once, in
/// one statement that takes the counters in user order (so two such appends never wait on each other in
/// a cycle), and all the events go in one insert. `events` must be sorted by user; each user's keep their
/// order. Empty is fine. Each user's last event number afterwards.
pub(crate) async fn append_events_of_users(
    conn: &mut Conn,
    engine: Engine,
    events: &[(&UserId, EventKind, &str)],
    at: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    if events.is_empty() {
        return Ok(Default::default());
    }
    let users: Vec<(&UserId, i64)> = events
        .chunk_by(|a, b| a.0 == b.0)
        .map(|same| (same[0].0, same.len() as i64))
        .collect();
    match engine {
        Engine::Postgres => append_in_one_statement(conn, events, &users, at).await,
        Engine::Sqlite => append_in_two_statements(conn, events, &users, at).await,
    }
}

/// SQLite: the counters, then the events numbered from what the counters returned. (Statements cost no
/// round trip there, and SQLite has no data-modifying `WITH`.)
async fn append_in_two_statements(
    conn: &mut Conn,
    events: &[(&UserId, EventKind, &str)],
    users: &[(&UserId, i64)],
    at: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    let values: Vec<String> = (0..users.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO event_cursors (user_id, last_seq) VALUES {} ON CONFLICT (user_id) \
         DO UPDATE SET last_seq = event_cursors.last_seq + excluded.last_seq RETURNING user_id, last_seq",
        values.join(", ")
    );
    let mut upsert = query_as::<Any, (String, i64)>(&sql);
    for (user, count) in users {
        upsert = upsert.bind(user.as_str()).bind(*count);
    }
    let lasts: std::collections::HashMap<String, i64> =
        upsert.fetch_all(&mut *conn).await?.into_iter().collect();
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let p = 2 + 4 * i;
            format!("(${}, ${}, ${}, ${}, $1)", p, p + 1, p + 2, p + 3)
        })
        .collect();
    let sql = format!(
        "INSERT INTO events (user_id, seq, kind, subject, created_at) VALUES {}",
        rows.join(", ")
    );
    let mut insert = query(&sql).bind(at);
    let mut next = 0;
    for (user, count) in users {
        let last = *lasts
            .get(user.as_str())
            .ok_or(crate::StoreError::Missing("event counter"))?;
        for (i, (_, kind, subject)) in events[next..next + *count as usize].iter().enumerate() {
            let seq = last - count + 1 + i as i64;
            insert = insert
                .bind(user.as_str())
                .bind(seq)
                .bind(kind.as_str())
                .bind(*subject);
        }
        next += *count as usize;
    }
    insert.execute(&mut *conn).await?;
    Ok(lasts)
}

/// PostgreSQL: counters and events in one statement, one round trip. Each event is
/// numbered back from its user's new last number (`back`: how many of the user's events follow it).
async fn append_in_one_statement(
    conn: &mut Conn,
    events: &[(&UserId, EventKind, &str)],
    users: &[(&UserId, i64)],
    at: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    // $1: the time, then the counts, then the events.
    let counts: Vec<String> = (0..users.len())
        .map(|i| format!("(${}, ${})", 2 + 2 * i, 3 + 2 * i))
        .collect();
    let first = 2 + 2 * users.len();
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let p = first + 4 * i;
            format!("(${}, ${}, ${}, ${})", p, p + 1, p + 2, p + 3)
        })
        .collect();
    let sql = format!(
        "WITH counts (user_id, n) AS (VALUES {}), {} SELECT user_id, last_seq FROM cursors",
        counts.join(", "),
        append_steps("counts", &format!("(VALUES {})", rows.join(", ")), "$1")
    );
    let mut statement = query_as::<Any, (String, i64)>(&sql).bind(at);
    for (user, count) in users {
        statement = statement.bind(user.as_str()).bind(*count);
    }
    let mut next = 0;
    for (user, count) in users {
        for (i, (_, kind, subject)) in events[next..next + *count as usize].iter().enumerate() {
            let back = count - 1 - i as i64;
            statement = statement
                .bind(user.as_str())
                .bind(back)
                .bind(kind.as_str())
                .bind(*subject);
        }
        next += *count as usize;
    }
    Ok(statement.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// The `WITH` steps that append events on PostgreSQL, for a statement to put after its own steps:
/// `counts` is a relation of `(user_id, n)`, how many events each user gets (the counters are taken in
/// its order), and `rows` one of `(user_id, back, kind, subject)`, each event numbered back from its
/// user's new last number (`back`: how many of the user's events follow it); `at` is the time. The
/// steps are `cursors` (each user's new last number) and `added`.
pub(crate) fn append_steps(counts: &str, rows: &str, at: &str) -> String {
    format!(
        "cursors AS (INSERT INTO event_cursors (user_id, last_seq) SELECT user_id, n FROM {counts} \
         ON CONFLICT (user_id) DO UPDATE SET last_seq = event_cursors.last_seq + excluded.last_seq \
         RETURNING user_id, last_seq), \
         added AS (INSERT INTO events (user_id, seq, kind, subject, created_at) \
         SELECT v.user_id, cursors.last_seq - v.back, v.kind, v.subject, {at} \
         FROM {rows} AS v (user_id, back, kind, subject) JOIN cursors ON cursors.user_id = v.user_id)"
    )
}

impl Store {
    /// Tells this node's push connections, and the other nodes, that `user` has new events (after the
    /// commit that added them).
    pub fn announce(&self, user: &UserId) {
        self.announce_here(user);
        self.tell_other_nodes(user);
    }

    /// Tells this node's push connections that `user` has new events (this node's commit, or another
    /// node's word).
    pub(crate) fn announce_here(&self, user: &UserId) {
        // Counted, then the user's memos dropped, then the connections woken: a read that overlapped the
        // change does not keep what it read (see `holds.rs`), and a woken connection reads afresh.
        self.announcer.count(user);
        self.held.remove(user);
        self.announcer.wake(user);
    }

    /// Hints that `user` has new events, for one push connection.
    pub fn announcements(&self, user: &UserId) -> crate::Announcements {
        self.announcer.subscribe(user)
    }

    /// Up to `limit` of the user's events after number `after`, oldest first.
    pub async fn events_after(
        &self,
        user: &UserId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EventRecord>> {
        let rows: Vec<(i64, String, String, i64)> = query_as(
            "SELECT seq, kind, subject, created_at FROM events WHERE user_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(user.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.db.read())
        .await?;
        rows.into_iter()
            .map(|(seq, kind, subject, at)| {
                Ok(EventRecord {
                    seq,
                    kind: EventKind::parse(&kind),
                    subject,
                    at: from_millis(at),
                })
            })
            .collect()
    }

    /// The number of the user's latest event (0 before the first).
    pub async fn last_event(&self, user: &UserId) -> Result<i64> {
        let row: Option<(i64,)> = query_as("SELECT last_seq FROM event_cursors WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_optional(self.db.read())
            .await?;
        Ok(row.map_or(0, |(seq,)| seq))
    }

    /// The number of the user's oldest event still kept, if any.
    pub async fn first_kept_event(&self, user: &UserId) -> Result<Option<i64>> {
        let row: (Option<i64>,) = query_as("SELECT MIN(seq) FROM events WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_one(self.db.read())
            .await?;
        Ok(row.0)
    }

    /// Forgets events older than `before`; how many.
    pub async fn prune_events(&self, before: OffsetDateTime) -> Result<u64> {
        let done = query("DELETE FROM events WHERE created_at < $1")
            .bind(to_millis(before))
            .execute(self.db.write())
            .await?;
        Ok(done.rows_affected())
    }

    /// Appends an event of `kind` for each of `subjects` (ids of what changed) as the last statements of
    /// `tx`, commits it, and announces the user when there was any.
    pub(crate) async fn commit_with_events(
        &self,
        mut tx: bankgate_db::Tx,
        user: &UserId,
        kind: EventKind,
        subjects: &[&str],
        at: OffsetDateTime,
    ) -> Result<()> {
        let events: Vec<(EventKind, &str)> = subjects.iter().map(|s| (kind, *s)).collect();
        append_events(&mut tx, self.db.engine(), user, &events, to_millis(at)).await?;
        tx.commit().await?;
        if !subjects.is_empty() {
            self.announce(user);
        }
        Ok(())
    }
}
