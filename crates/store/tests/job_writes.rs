//! Running jobs' writes committed together (group commit), on every engine: many jobs of several users
//! saving logs and ending at once are each answered as if written alone, a write whose claim has lapsed
//! changes nothing, and the holds and events they leave are exactly those of the writes one by one.
#![allow(clippy::expect_used, clippy::unwrap_used)]
// Amounts are written as cents grouped like money (`100_00` is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use bankgate_domain::ids::{OperationId, UserId};
use bankgate_store::*;
use time::Duration;

mod common;
use common::*;

/// Jobs per user; every fourth of each kind of write below.
const JOBS: usize = 24;

/// What each job does once claimed, by its index.
fn plan(i: usize) -> &'static str {
    match i % 4 {
        0 => "lost claim",
        1 => "log releasing the hold, then done",
        2 => "retry",
        _ => "failed",
    }
}

async fn queue_for(store: &Store, user: &UserId, account: &StoredAccount) -> Vec<OperationId> {
    let mut ids = Vec::new();
    for _ in 0..JOBS {
        let position = store.hold_position(&account.id).await.unwrap();
        let hold = NewHold {
            account_id: account.id.clone(),
            amount: usd(1_00),
            available_at_back_office: usd(100_00),
            position,
            stand_in_limit: None,
        };
        let job = transfer_job(user, T0, Some(hold));
        match store.enqueue_job(&job).await.unwrap() {
            Enqueued::Queued(record) => ids.push(record.id),
            other => panic!("not queued: {other:?}"),
        }
    }
    ids
}

#[tokio::test]
async fn jobs_writing_at_once_are_each_answered_as_if_alone() {
    with_two_nodes(|a, b| async move {
        let (dana, dana_account) = user_with_account(&a, "dana").await;
        let (eve, eve_account) = user_with_account(&a, "eve").await;
        let mut ids = queue_for(&a, &dana, &dana_account).await;
        ids.extend(queue_for(&a, &eve, &eve_account).await);
        let claimed = a
            .claim_due_jobs("a", T0, T0 + Duration::seconds(60), 100)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2 * JOBS);
        let index_of = |id: &OperationId| ids.iter().position(|i| i == id).unwrap() % JOBS;

        // Every job writes at the same moment, alternately through both nodes.
        let writes = claimed.iter().enumerate().map(|(n, job)| {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let what = plan(index_of(&job.id));
            async move {
                let claim = JobClaim {
                    node: "a",
                    attempt: job.attempts,
                };
                let done = JobOutcome::Done {
                    result: "{}".into(),
                };
                let ended = match what {
                    "lost claim" => {
                        let stale = JobClaim {
                            node: "a",
                            attempt: job.attempts + 1,
                        };
                        assert!(!store
                            .save_job_progress(&job.id, &stale, "{}", true, T0)
                            .await
                            .unwrap());
                        store.finish_job(&job.id, &stale, &done, T0).await.unwrap()
                    }
                    "log releasing the hold, then done" => {
                        assert!(store
                            .save_job_progress(&job.id, &claim, "{\"debit\":1}", true, T0)
                            .await
                            .unwrap());
                        store.finish_job(&job.id, &claim, &done, T0).await.unwrap()
                    }
                    "retry" => {
                        let retry = JobOutcome::Retry {
                            at: T0 + Duration::seconds(5),
                            reason: "later".into(),
                        };
                        store.finish_job(&job.id, &claim, &retry, T0).await.unwrap()
                    }
                    _ => {
                        let failed = JobOutcome::Failed {
                            reason: "refused".into(),
                        };
                        store
                            .finish_job(&job.id, &claim, &failed, T0)
                            .await
                            .unwrap()
                    }
                };
                (job.id.clone(), what, ended)
            }
        });
        for (id, what, ended) in futures::future::join_all(writes).await {
            let expected = match what {
                "lost claim" => None,
                "log releasing the hold, then done" => Some(JobState::Done),
                "retry" => Some(JobState::Retrying),
                _ => Some(JobState::Failed),
            };
            assert_eq!(ended.as_ref().map(|j| j.state), expected, "{what}");
            let stored = a.job(&id).await.unwrap().unwrap();
            assert_eq!(stored.id, id);
            match what {
                "lost claim" => assert_eq!(stored.state, JobState::Running),
                "log releasing the hold, then done" => {
                    assert_eq!(stored.progress.as_deref(), Some("{\"debit\":1}"));
                    assert_eq!(stored.result.as_deref(), Some("{}"));
                }
                "retry" => assert_eq!(stored.due_at, T0 + Duration::seconds(5)),
                _ => assert_eq!(stored.failure.as_deref(), Some("refused")),
            }
        }

        // Each account keeps the holds of the jobs still running or retrying (half of them), and its
        // version counts the holds released after execution.
        for (user, account) in [(&dana, &dana_account), (&eve, &eve_account)] {
            let kept = (JOBS / 2) as i64;
            assert_eq!(
                a.hold_position(&account.id).await.unwrap(),
                HoldPosition {
                    held_minor: kept * 1_00,
                    version: kept,
                    released_minor: kept * 1_00,
                    released_count: kept
                }
            );
            // Numbered without gap or repeat, with one `accounts` event per hold placed or released
            // (and the account's first recording).
            let events = a.events_after(user, 0, 1000).await.unwrap();
            let numbers: Vec<i64> = events.iter().map(|e| e.seq).collect();
            assert_eq!(numbers, (1..=events.len() as i64).collect::<Vec<_>>());
            let balance_events = events
                .iter()
                .filter(|e| e.kind == Some(EventKind::Accounts))
                .count();
            assert_eq!(balance_events, 1 + JOBS + JOBS / 2);
            // And one `undo` event per job ended, besides those of queueing and claiming.
            let ended = events
                .iter()
                .filter(|e| e.kind == Some(EventKind::Undo))
                .count();
            assert_eq!(ended, JOBS + JOBS + 3 * JOBS / 4);
        }
    })
    .await;
}

#[tokio::test]
async fn of_two_claims_on_one_job_written_together_only_the_holding_one_lands() {
    with_each_store(|store| async move {
        let (user, _) = user_with_account(&store, "dana").await;
        let job = match store
            .enqueue_job(&transfer_job(&user, T0, None))
            .await
            .unwrap()
        {
            Enqueued::Queued(record) => record,
            other => panic!("not queued: {other:?}"),
        };
        let lease = Duration::seconds(60);
        store.claim_due_jobs("a", T0, T0 + lease, 1).await.unwrap();
        // Node a's lease lapses and node b takes the job over, as its second attempt.
        let lapsed = T0 + Duration::seconds(61);
        let taken = store
            .claim_due_jobs("b", lapsed, lapsed + lease, 1)
            .await
            .unwrap();
        assert_eq!(taken[0].id, job.id);
        let old = JobClaim {
            node: "a",
            attempt: 1,
        };
        let new = JobClaim {
            node: "b",
            attempt: 2,
        };
        // Both write at the same moment, so in one batch, the lapsed claim first.
        let (old_saved, new_saved) = tokio::join!(
            store.save_job_progress(&job.id, &old, "old", false, lapsed),
            store.save_job_progress(&job.id, &new, "new", false, lapsed)
        );
        assert_eq!((old_saved.unwrap(), new_saved.unwrap()), (false, true));
        let stored = store.job(&job.id).await.unwrap().unwrap();
        assert_eq!(stored.progress.as_deref(), Some("new"));
        let done = JobOutcome::Done {
            result: "{}".into(),
        };
        let failed = JobOutcome::Failed {
            reason: "refused".into(),
        };
        let (old_end, new_end) = tokio::join!(
            store.finish_job(&job.id, &old, &done, lapsed),
            store.finish_job(&job.id, &new, &failed, lapsed)
        );
        assert_eq!(old_end.unwrap(), None);
        assert_eq!(new_end.unwrap().map(|j| j.state), Some(JobState::Failed));
    })
    .await;
}

/// Queues a job holding `cents` of `account` in stand-in, with a limit of 5.00 per user.
async fn queue_in_stand_in(
    store: &Store,
    user: &UserId,
    account: &StoredAccount,
    cents: i64,
) -> Enqueued {
    let hold = NewHold {
        account_id: account.id.clone(),
        amount: usd(cents),
        available_at_back_office: usd(100_00),
        position: store.hold_position(&account.id).await.unwrap(),
        stand_in_limit: Some(usd(5_00)),
    };
    store
        .enqueue_job(&transfer_job(user, T0, Some(hold)))
        .await
        .unwrap()
}

#[tokio::test]
async fn stand_in_holds_released_together_give_each_user_back_their_exposure() {
    with_each_store(|store| async move {
        let (dana, dana_account) = user_with_account(&store, "dana").await;
        let (eve, eve_account) = user_with_account(&store, "eve").await;
        let users = [(&dana, &dana_account), (&eve, &eve_account)];
        for (user, account) in users {
            for _ in 0..5 {
                let queued = queue_in_stand_in(&store, user, account, 1_00).await;
                assert!(matches!(queued, Enqueued::Queued(_)), "{queued:?}");
            }
            let over = queue_in_stand_in(&store, user, account, 1_00).await;
            assert_eq!(over, Enqueued::StandInLimit);
        }
        let claimed = store
            .claim_due_jobs("a", T0, T0 + Duration::seconds(60), 100)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 10);
        // Three of each user's five fail at the same moment, releasing their holds in one batch.
        let failed = JobOutcome::Failed {
            reason: "refused".into(),
        };
        let mut ending = Vec::new();
        for user in [&dana, &eve] {
            let theirs = claimed.iter().filter(|j| &j.user_id == user).take(3);
            ending.extend(theirs.map(|job| {
                let claim = JobClaim {
                    node: "a",
                    attempt: job.attempts,
                };
                let (store, failed) = (store.clone(), failed.clone());
                async move { store.finish_job(&job.id, &claim, &failed, T0).await }
            }));
        }
        for ended in futures::future::join_all(ending).await {
            assert_eq!(ended.unwrap().map(|j| j.state), Some(JobState::Failed));
        }
        // Each user has 3.00 of the 5.00 back: exactly that fits again, and no more.
        for (user, account) in users {
            let refill = queue_in_stand_in(&store, user, account, 3_00).await;
            assert!(matches!(refill, Enqueued::Queued(_)), "{refill:?}");
            let over = queue_in_stand_in(&store, user, account, 1_00).await;
            assert_eq!(over, Enqueued::StandInLimit);
        }
    })
    .await;
}
