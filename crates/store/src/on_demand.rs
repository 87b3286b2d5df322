//! A queue drained by a task that runs only while there is work: the first item pushed while no task is
//! draining starts one; the task takes what is waiting in batches and ends when nothing is left. Items
//! arriving while a batch is handled form the next batch. There is no timer: an item pushed on an idle
//! node is handled at once, and under load each batch carries what arrived during the one before.
//!
//! Used for the group commit of running jobs' writes (`jobs/group.rs`) and for telling other nodes of
//! changes (`relay.rs`).

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct OnDemandQueue<T> {
    state: Mutex<Waiting<T>>,
}

struct Waiting<T> {
    items: Vec<T>,
    draining: bool,
}

impl<T> Default for OnDemandQueue<T> {
    fn default() -> Self {
        OnDemandQueue {
            state: Mutex::new(Waiting {
                items: Vec::new(),
                draining: false,
            }),
        }
    }
}

impl<T: Send + 'static> OnDemandQueue<T> {
    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        // A panic while holding the lock leaves the list as it was: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether nothing waits and no task is draining.
    pub(crate) fn is_idle(&self) -> bool {
        let waiting = self.lock();
        waiting.items.is_empty() && !waiting.draining
    }

    /// Adds `item`, and when no task is draining the queue, spawns `drain` with the turn to drain it.
    pub(crate) fn push<F, Fut>(self: &Arc<Self>, item: T, drain: F)
    where
        F: FnOnce(Drainer<T>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let start = {
            let mut waiting = self.lock();
            waiting.items.push(item);
            !std::mem::replace(&mut waiting.draining, true)
        };
        if start {
            // Built before the spawn: should the task never run (the runtime shutting down), dropping
            // the drainer gives the turn back, so the next push starts a new task.
            let drainer = Drainer {
                queue: Arc::clone(self),
                finished: false,
            };
            tokio::spawn(drain(drainer));
        }
    }
}

/// The one turn to drain a queue. Dropped before the queue was empty (the task panicked or was never
/// run), it drops what still waits and gives the turn back.
pub(crate) struct Drainer<T: Send + 'static> {
    queue: Arc<OnDemandQueue<T>>,
    finished: bool,
}

impl<T: Send + 'static> Drainer<T> {
    /// The next batch, which `take` removes from the waiting items (all of them, or some, leaving the
    /// rest in order for the batch after); None when nothing waits, which ends this turn (and every
    /// later call answers None: another task may have the next turn).
    pub(crate) fn next_batch(
        &mut self,
        take: impl FnOnce(&mut Vec<T>) -> Vec<T>,
    ) -> Option<Vec<T>> {
        if self.finished {
            return None;
        }
        let mut waiting = self.queue.lock();
        if waiting.items.is_empty() {
            waiting.draining = false;
            self.finished = true;
            return None;
        }
        Some(take(&mut waiting.items))
    }
}

impl<T: Send + 'static> Drop for Drainer<T> {
    fn drop(&mut self) {
        if !self.finished {
            let mut waiting = self.queue.lock();
            waiting.items.clear();
            waiting.draining = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    /// A drain that hands each batch to the test and waits for leave to go on.
    async fn drain_into(
        mut drainer: Drainer<u32>,
        batches: mpsc::UnboundedSender<Vec<u32>>,
        mut go_on: mpsc::UnboundedReceiver<()>,
    ) {
        while let Some(batch) = drainer.next_batch(std::mem::take) {
            let _ = batches.send(batch);
            let _ = go_on.recv().await;
        }
    }

    #[tokio::test]
    async fn items_pushed_during_a_batch_form_the_next_and_the_task_ends_when_none_wait() {
        let queue = Arc::new(OnDemandQueue::default());
        let (batches_tx, mut batches) = mpsc::unbounded_channel();
        let (go_on, go_on_rx) = mpsc::unbounded_channel();
        let mut go_on_rx = Some(go_on_rx);
        let mut push = |item: u32| {
            let (tx, rx) = (batches_tx.clone(), go_on_rx.take());
            queue.push(item, move |drainer| async move {
                drain_into(drainer, tx, rx.expect("one task at a time")).await
            });
        };
        push(1);
        assert_eq!(batches.recv().await.unwrap(), [1]);
        push(2);
        push(3);
        go_on.send(()).unwrap();
        assert_eq!(batches.recv().await.unwrap(), [2, 3]);
        go_on.send(()).unwrap();
        // The task ends; the next push needs a new one (and would panic taking a second go_on).
        assert!(becomes_idle(&queue).await);
    }

    /// Whether the queue goes idle within five seconds (its task runs when the runtime gets to it).
    async fn becomes_idle(queue: &OnDemandQueue<u32>) -> bool {
        for _ in 0..500 {
            if queue.is_idle() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_drainer_dropped_early_gives_the_turn_back() {
        let queue: Arc<OnDemandQueue<u32>> = Arc::new(OnDemandQueue::default());
        queue.push(1, |drainer| async move { drop(drainer) });
        assert!(becomes_idle(&queue).await, "the turn is free again");
        let (tx, mut rx) = mpsc::unbounded_channel();
        queue.push(2, move |mut drainer| async move {
            while let Some(batch) = drainer.next_batch(std::mem::take) {
                let _ = tx.send(batch);
            }
        });
        assert_eq!(rx.recv().await.unwrap(), [2], "what waited was dropped");
    }

    #[test]
    fn a_turn_that_ended_takes_nothing_more() {
        let queue: Arc<OnDemandQueue<u32>> = Arc::new(OnDemandQueue::default());
        queue.lock().draining = true;
        let mut drainer = Drainer {
            queue: Arc::clone(&queue),
            finished: false,
        };
        assert_eq!(drainer.next_batch(std::mem::take), None, "nothing waits");
        // Another push starts another turn.
        queue.lock().items.push(7);
        queue.lock().draining = true;
        assert_eq!(drainer.next_batch(std::mem::take), None);
        assert_eq!(queue.lock().items, [7], "left for the new turn");
    }
}
