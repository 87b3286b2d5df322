//! Announcements between nodes, on PostgreSQL (SQLite serves one node). After a commit that appended a
//! user's events, a node tells the others with `NOTIFY bankgate_events`, the payload the user's id; every
//! node listens and announces the users it hears of to its own push connections.
//!
//! The notifications go after the commit, batched per node in a transaction of their own, never inside
//! the transaction that makes the change: PostgreSQL commits every transaction that sent a NOTIFY under
//! one cluster-wide lock, held through the commit's WAL flush, so a NOTIFY in each transaction that moves
//! money made those transactions commit one at a time across all nodes (in the transfer benchmark,
//! acceptances spent most of their time waiting for that lock). A transaction that only notifies writes
//! nothing else, so its commit does not wait for a flush, and holds the lock only briefly.
//!
//! What this gives up: a node that stops between a commit and its batch leaves the other nodes
//! unannounced. Their push connections re-read their log at every heartbeat and their memos expire on
//! their own (see `holds.rs`), so such a change reaches them late, not never.

use crate::on_demand::{Drainer, OnDemandQueue};
use crate::{Result, Store};
use bankgate_db::Engine;
use bankgate_domain::ids::UserId;
use sqlx::query;

/// The PostgreSQL channel nodes listen on; each notification's payload is a user id.
pub const EVENTS_CHANNEL: &str = "bankgate_events";

/// Most users told of in one statement.
const MOST_PER_NOTIFY: usize = 500;

/// Users whose changes this node has yet to tell the other nodes of.
pub(crate) type OutgoingAnnouncements = OnDemandQueue<UserId>;

impl Store {
    /// Tells the other nodes, soon after the commit that appended `user`'s events, that there are new
    /// ones. Nothing to do on SQLite.
    pub(crate) fn tell_other_nodes(&self, user: &UserId) {
        if self.db.engine() != Engine::Postgres {
            return;
        }
        let store = self.clone();
        self.outgoing
            .push(user.clone(), |sender| send_waiting(store, sender));
    }

    /// Waits, for at most `limit`, until the other nodes have been told of every change this node
    /// committed (before a node stops).
    pub(crate) async fn finish_telling_other_nodes(&self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.outgoing.is_idle() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Listens on PostgreSQL for the users other nodes tell of and announces them here. Returns only
    /// when the connection fails for good.
    pub async fn relay_other_nodes_events(&self, database_url: &str) -> Result<()> {
        let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        loop {
            let notification = listener.recv().await?;
            if let Some(user) = UserId::parse(notification.payload()) {
                self.announce_here(&user);
            }
        }
    }
}

/// Sends what waits, a batch at a time, until nothing does. A batch that fails is tried once more.
async fn send_waiting(store: Store, mut sender: Drainer<UserId>) {
    while let Some(users) = sender.next_batch(distinct_users) {
        let mut sent = notify(&store, &users).await;
        if sent.is_err() {
            sent = notify(&store, &users).await;
        }
        if let Err(e) = sent {
            tracing::warn!(error = %e, users = users.len(),
                "telling other nodes of changes failed; they see them at their next heartbeat");
        }
    }
}

/// Up to [`MOST_PER_NOTIFY`] of the waiting users, each once (a busy user may be waiting many times).
fn distinct_users(waiting: &mut Vec<UserId>) -> Vec<UserId> {
    waiting.sort_unstable();
    waiting.dedup();
    let rest = waiting.split_off(waiting.len().min(MOST_PER_NOTIFY));
    std::mem::replace(waiting, rest)
}

/// One notification per user, in one statement that is its own transaction. The users go as one
/// space-separated text (ids hold no spaces), so every batch is the same statement, prepared once per
/// connection.
async fn notify(store: &Store, users: &[UserId]) -> Result<()> {
    let users: Vec<&str> = users.iter().map(UserId::as_str).collect();
    // pg_notify returns void, which the rows carry as text.
    query("SELECT pg_notify($1, u)::text FROM unnest(string_to_array($2, ' ')) AS u")
        .bind(EVENTS_CHANNEL)
        .bind(users.join(" "))
        .execute(store.db.write())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_names_each_user_once_and_leaves_the_rest_waiting() {
        let user = |id: &str| UserId::from_trusted(id.into());
        let mut waiting: Vec<UserId> = (0..MOST_PER_NOTIFY + 2)
            .map(|i| user(&format!("u{:04}", i % (MOST_PER_NOTIFY + 1))))
            .collect();
        waiting.extend(["b", "a", "b"].into_iter().map(user));
        let batch = distinct_users(&mut waiting);
        assert_eq!(batch.len(), MOST_PER_NOTIFY);
        assert!(batch.starts_with(&[user("a"), user("b"), user("u0000")]));
        assert_eq!(
            waiting,
            [user("u0498"), user("u0499"), user("u0500")],
            "the rest wait for the next batch, each once"
        );
    }
}
