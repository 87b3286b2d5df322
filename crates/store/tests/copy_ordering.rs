//! Copies are ordered by the back office's version of each object, not by when bankgate wrote them: a
//! snapshot read earlier but stored later gives way to the newer copy, on every engine, and a change
//! another node stored is not hidden behind this node's memo.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use bankgate_backoffice::{BoTransaction, TransactionState};
use bankgate_store::*;
use time::Duration;

mod common;
use common::*;

#[tokio::test]
async fn an_older_snapshot_stored_later_gives_way_to_the_newer_copy() {
    with_each_store(|store| async move {
        let dana = user(&store, "dana").await;
        let a = office("sandbox-a");
        let older = bo_account("acc_1", 100);
        let mut newer = bo_account("acc_1", 150);
        newer.updated_at = T0 + Duration::seconds(2);

        store
            .record_accounts(&dana, &a, std::slice::from_ref(&older), T0)
            .await
            .unwrap();
        let at = T0 + Duration::seconds(3);
        let stored = store
            .record_accounts(&dana, &a, std::slice::from_ref(&newer), at)
            .await
            .unwrap();
        let events = store.last_event(&dana).await.unwrap();

        let late = at + Duration::seconds(1);
        let answer = store
            .record_accounts(&dana, &a, std::slice::from_ref(&older), late)
            .await
            .unwrap();
        assert_eq!(
            answer[0].account, newer,
            "the caller gets the copy the store kept"
        );
        assert_eq!(answer[0].refreshed_at, at, "as last confirmed");
        let kept = store
            .get_account(&dana, &stored[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.account, newer);
        assert_eq!(kept.refreshed_at, at, "a refused copy confirms nothing");
        assert_eq!(
            store.last_event(&dana).await.unwrap(),
            events,
            "nothing changed, nothing pushed"
        );

        // A back office whose clock stepped back: its copies are taken again once the stored version has
        // gone unconfirmed for VERSION_TRUST_MS.
        let much_later = at + Duration::milliseconds(VERSION_TRUST_MS + 1);
        let answer = store
            .record_accounts(&dana, &a, std::slice::from_ref(&older), much_later)
            .await
            .unwrap();
        assert_eq!(answer[0].account, older);
        let taken = store
            .get_account(&dana, &stored[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.account, older);
        assert!(store.last_event(&dana).await.unwrap() > events);
    })
    .await;
}

/// A pending line of 0.25 and the same line completed 30 s later.
fn pending_then_completed(id: &str) -> (BoTransaction, BoTransaction) {
    let pending = BoTransaction {
        state: TransactionState::Pending,
        completed_at: None,
        ..bo_transaction(id, "acc_dana", -25, T0)
    };
    let completed = BoTransaction {
        state: TransactionState::Confirmed,
        completed_at: Some(T0 + Duration::seconds(30)),
        ..pending.clone()
    };
    (pending, completed)
}

#[tokio::test]
async fn a_line_once_completed_is_not_put_back_to_pending() {
    with_each_store(|store| async move {
        let (dana, account) = user_with_account(&store, "dana").await;
        let a = office("sandbox-a");
        let (pending, completed) = pending_then_completed("txn_1");
        let record = |line: &BoTransaction, seconds: i64| {
            let (store, dana, a, account) = (&store, &dana, &a, &account);
            let line = line.clone();
            async move {
                store
                    .record_transactions(
                        dana,
                        &account.id,
                        a,
                        &[line],
                        T0 + Duration::seconds(seconds),
                    )
                    .await
                    .unwrap()
                    .remove(0)
            }
        };
        record(&pending, 1).await;
        let done = record(&completed, 31).await;
        let stale = record(&pending, 32).await;
        assert_eq!(stale.transaction.state, TransactionState::Confirmed);
        let kept = store
            .get_transaction(&dana, &account.id, &done.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.transaction, completed);
    })
    .await;
}

#[tokio::test]
async fn a_change_reverted_while_another_node_stored_it_is_stored_too() {
    with_two_memos(|node_a, node_b| async move {
        let dana = user(&node_a, "dana").await;
        let a = office("sandbox-a");
        let before = bo_account("acc_1", 100);
        let mut changed = bo_account("acc_1", 150);
        changed.updated_at = T0 + Duration::seconds(1);
        let mut reverted = bo_account("acc_1", 100);
        reverted.updated_at = T0 + Duration::seconds(2);

        let id = node_a
            .record_accounts(&dana, &a, &[before], T0)
            .await
            .unwrap()[0]
            .id
            .clone();
        node_b
            .record_accounts(&dana, &a, &[changed], T0 + Duration::seconds(1))
            .await
            .unwrap();
        let events = node_a.last_event(&dana).await.unwrap();
        // Node A still remembers the account at 100 as fresh: the same balance at a newer version is a
        // change all the same.
        node_a
            .record_accounts(
                &dana,
                &a,
                std::slice::from_ref(&reverted),
                T0 + Duration::seconds(2),
            )
            .await
            .unwrap();
        let stored = node_b.get_account(&dana, &id).await.unwrap().unwrap();
        assert_eq!(stored.account, reverted);
        assert!(
            node_a.last_event(&dana).await.unwrap() > events,
            "the revert is pushed"
        );
    })
    .await;
}

#[tokio::test]
async fn a_page_naming_a_line_twice_stores_it_once_as_named_last() {
    with_each_store(|store| async move {
        let (dana, account) = user_with_account(&store, "dana").await;
        let a = office("sandbox-a");
        let (pending, completed) = pending_then_completed("txn_twice");
        // More lines than one statement carries, with one of them named twice.
        let mut page: Vec<BoTransaction> = (0..620)
            .map(|i| bo_transaction(&format!("txn_{i}"), "acc_dana", -1, T0))
            .collect();
        page.insert(10, pending);
        page.push(completed.clone());
        let at = T0 + Duration::seconds(31);
        let stored = store
            .record_transactions(&dana, &account.id, &a, &page, at)
            .await
            .unwrap();
        assert_eq!(stored.len(), page.len());
        assert_eq!(stored[10].id, stored[page.len() - 1].id);
        let ids: std::collections::HashSet<_> = stored.iter().map(|t| t.id.clone()).collect();
        assert_eq!(ids.len(), 621, "one id per line");
        let kept = store
            .get_transaction(&dana, &account.id, &stored[10].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(kept.transaction, completed);
        let last_plain = store
            .get_transaction(&dana, &account.id, &stored[page.len() - 2].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last_plain.transaction.id_bo.0, "txn_619");
    })
    .await;
}
