//! Hearing other nodes: on PostgreSQL every node announces the users whose events it appended with
//! `NOTIFY` on `bankgate_events`, soon after the commit (see `bankgate_store`'s `relay.rs`); this node
//! listens and announces each user to its own push connections, so a client connected here sees a change
//! made on another node at once.

use bankgate_store::Store;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Listens until `stop` turns true; reconnects after a lost connection (push connections re-read their
/// log at every heartbeat, so what was announced meanwhile arrives then).
pub fn spawn_event_listener(
    database_url: String,
    store: Store,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let listened = tokio::select! {
                result = store.relay_other_nodes_events(&database_url) => result,
                _ = stop.wait_for(|s| *s) => return,
            };
            if let Err(e) = listened {
                tracing::warn!(error = %e, "listening for other nodes' events failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}
