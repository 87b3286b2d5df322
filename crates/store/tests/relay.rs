//! Nodes telling each other of changes (PostgreSQL only: SQLite serves one node). A change committed
//! through one store is announced to the push connections of another store on the same database, for
//! an acceptance (its hold, job and events in one statement) and for a job's ending written in a batch.
#![allow(clippy::expect_used, clippy::unwrap_used)]
// Amounts are written as cents grouped like money (`100_00` is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use bankgate_db::testing::{test_engines, TestDatabase};
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_store::*;
use std::time::Duration as StdDuration;
use time::Duration;

mod common;
use common::*;

async fn open(database: &TestDatabase) -> Store {
    let db = Db::connect(&database.url, &DbOptions::default())
        .await
        .expect("connect");
    Store::open(db).await.expect("migrate")
}

/// Whether `announcements` hear something within two seconds (well before any heartbeat would).
async fn heard(announcements: &mut Announcements) -> bool {
    tokio::time::timeout(StdDuration::from_secs(2), announcements.next())
        .await
        .is_ok()
}

#[tokio::test]
async fn a_change_committed_on_one_node_is_announced_on_another() {
    for engine in test_engines()
        .into_iter()
        .filter(|e| *e == Engine::Postgres)
    {
        let database = TestDatabase::create(engine).await;
        let (first, second) = (open(&database).await, open(&database).await);
        let listening = {
            let (second, url) = (second.clone(), database.url.clone());
            tokio::spawn(async move { second.relay_other_nodes_events(&url).await })
        };
        let (dana, account) = user_with_account(&first, "dana").await;
        let mut on_second = second.announcements(&dana);
        // The listener connects in the background: announce until it hears, before the real test.
        let mut ready = false;
        for _ in 0..50 {
            first.announce(&dana);
            if tokio::time::timeout(StdDuration::from_millis(100), on_second.next())
                .await
                .is_ok()
            {
                ready = true;
                break;
            }
        }
        assert!(ready, "the second node never heard the first");
        while tokio::time::timeout(StdDuration::from_millis(200), on_second.next())
            .await
            .is_ok()
        {}

        // Several users announced at once go in one batch; each is heard.
        let others = [user(&first, "eve").await, user(&first, "sam").await];
        let mut on_second_others: Vec<Announcements> =
            others.iter().map(|u| second.announcements(u)).collect();
        for other in &others {
            first.announce(other);
        }
        for announcements in &mut on_second_others {
            assert!(
                heard(announcements).await,
                "every user of a batch is told of"
            );
        }

        let hold = NewHold {
            account_id: account.id.clone(),
            amount: usd(5_00),
            available_at_back_office: usd(100_00),
            position: first.hold_position(&account.id).await.unwrap(),
            stand_in_limit: None,
        };
        let job = match first
            .enqueue_job(&transfer_job(&dana, T0, Some(hold)))
            .await
            .unwrap()
        {
            Enqueued::Queued(job) => job,
            other => panic!("not queued: {other:?}"),
        };
        assert!(heard(&mut on_second).await, "the acceptance was announced");
        // The second node memoizes the hold; the ending's announcement must drop that memo.
        assert_eq!(
            second.held_amounts(&dana).await.unwrap().get(&account.id),
            Some(&usd(5_00))
        );

        let claimed = first
            .claim_due_jobs("a", T0, T0 + Duration::seconds(60), 1)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let claim = JobClaim {
            node: "a",
            attempt: claimed[0].attempts,
        };
        first
            .finish_job(
                &job.id,
                &claim,
                &JobOutcome::Done {
                    result: "{}".into(),
                },
                T0,
            )
            .await
            .unwrap()
            .expect("finished");
        assert!(heard(&mut on_second).await, "the ending was announced");
        assert!(
            second.held_amounts(&dana).await.unwrap().is_empty(),
            "the second node's memo of the hold went with it"
        );

        listening.abort();
        first.db().close().await;
        second.db().close().await;
    }
}
