//! A small in-process memo with a time to live, for values that are read on every request and change
//! rarely (sessions, a user's back-office links, the last confirmed copy of an object). Every node
//! keeps its own; writes on this node update or drop entries at once, and an entry written by another
//! node is seen once the local one expires. The size is bounded by dropping everything when full, which
//! costs only re-reads.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Memo<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Memo {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value, if present and younger than the time to live.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        self.insert_if(key, value, || true);
    }

    /// Inserts unless `keep` says otherwise, asked while no other call can change the memo.
    pub fn insert_if(&self, key: K, value: V, keep: impl FnOnce() -> bool) {
        let mut entries = self.lock();
        if keep() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (value, Instant::now()));
        }
    }

    pub fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Drops every entry for which `keep` is false.
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.lock().retain(|k, (v, _)| keep(k, v));
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;
    use std::time::Duration;

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let memo = Memo::new(Duration::from_millis(0), 10);
        memo.insert(1, "a");
        assert_eq!(memo.get(&1), None, "a zero time to live keeps nothing");
        let memo = Memo::new(Duration::from_secs(60), 2);
        memo.insert(1, "a");
        memo.insert(2, "b");
        assert_eq!(memo.get(&1), Some("a"));
        memo.insert(3, "c");
        assert_eq!((memo.get(&1), memo.get(&3)), (None, Some("c")));
        memo.retain(|k, _| *k != 3);
        assert_eq!(memo.get(&3), None);
    }
}
