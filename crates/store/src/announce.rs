//! Telling this node's push connections that a user has new events: after the commit that appended them,
//! or when another node says so. Each user with an open connection has one channel, so an announcement
//! wakes that user's connections only, not every connection on the node. An announcement is a hint ("read
//! your log"), never data: several in a row while a connection is busy come to one read.

use bankgate_domain::ids::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// The users this node has push connections for, each with the channel that wakes them.
pub(crate) struct Announcer {
    users: Mutex<HashMap<UserId, watch::Sender<()>>>,
    /// Announcements made so far, counted in [`COUNTERS`] shards by user: a memo filled by a read that
    /// overlapped an announcement of its user (or of one sharing the shard) is suspect.
    announced: [AtomicU64; COUNTERS],
}

impl Default for Announcer {
    fn default() -> Self {
        Announcer {
            users: Mutex::default(),
            announced: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// Shards of the announcement count: enough that one busy user rarely spoils another's memo.
const COUNTERS: usize = 64;

fn shard(user: &UserId) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    (BuildHasherDefault::<DefaultHasher>::default().hash_one(user) % COUNTERS as u64) as usize
}

impl Announcer {
    fn users(&self) -> MutexGuard<'_, HashMap<UserId, watch::Sender<()>>> {
        self.users.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts an announcement about to be made for `user`; see [`Announcer::announced`].
    pub(crate) fn count(&self, user: &UserId) {
        self.announced[shard(user)].fetch_add(1, Ordering::SeqCst);
    }

    /// Wakes `user`'s connections, if the user has any here.
    pub(crate) fn wake(&self, user: &UserId) {
        if let Some(channel) = self.users().get(user) {
            channel.send_replace(());
        }
    }

    /// Announcements counted so far for `user` (and the users sharing its shard).
    pub(crate) fn announced(&self, user: &UserId) -> u64 {
        self.announced[shard(user)].load(Ordering::SeqCst)
    }

    pub(crate) fn subscribe(self: &Arc<Self>, user: &UserId) -> Announcements {
        let receiver = self
            .users()
            .entry(user.clone())
            .or_insert_with(|| watch::channel(()).0)
            .subscribe();
        Announcements {
            receiver,
            user: user.clone(),
            announcer: Arc::clone(self),
        }
    }
}

/// One push connection's hints that its user has new events. The user's channel goes when its last
/// connection does.
pub struct Announcements {
    receiver: watch::Receiver<()>,
    user: UserId,
    announcer: Arc<Announcer>,
}

impl Announcements {
    /// Waits for an announcement made since the last one this returned for (or since subscribing).
    pub async fn next(&mut self) {
        // The sender lives in the announcer while any receiver does, so this cannot fail.
        let _ = self.receiver.changed().await;
    }
}

impl Drop for Announcements {
    fn drop(&mut self) {
        let mut users = self.announcer.users();
        // Counted under the lock, so a connection subscribing at the same time is not left unheard.
        if users
            .get(&self.user)
            .is_some_and(|channel| channel.receiver_count() <= 1)
        {
            users.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn user(id: &str) -> UserId {
        UserId::from_trusted(id.into())
    }

    async fn woken(announcements: &mut Announcements) -> bool {
        tokio::time::timeout(Duration::from_millis(50), announcements.next())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn an_announcement_wakes_its_users_connections_only() {
        let announcer = Arc::new(Announcer::default());
        let (mut dana, mut dana_again) = (
            announcer.subscribe(&user("dana")),
            announcer.subscribe(&user("dana")),
        );
        let mut sam = announcer.subscribe(&user("sam"));
        announcer.wake(&user("dana"));
        announcer.wake(&user("dana"));
        assert!(woken(&mut dana).await && woken(&mut dana_again).await);
        assert!(
            !woken(&mut dana).await,
            "two announcements while busy are one read"
        );
        assert!(!woken(&mut sam).await);
    }

    #[tokio::test]
    async fn a_users_channel_goes_with_their_last_connection() {
        let announcer = Arc::new(Announcer::default());
        let first = announcer.subscribe(&user("dana"));
        let second = announcer.subscribe(&user("dana"));
        drop(first);
        assert_eq!(announcer.users().len(), 1);
        drop(second);
        assert!(announcer.users().is_empty());
        announcer.wake(&user("dana"));
        assert!(announcer.users().is_empty(), "announcing keeps no channel");
    }
}
