//! The job queue's contract on every engine: atomic claims (several nodes claiming at once never get the
//! same job), leases that let another node take over, holds decided by one guarded write, cancel only
//! before a claim, and idempotency records.
#![allow(clippy::expect_used, clippy::unwrap_used)]
// Amounts are written as cents grouped like money (`100_00` is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use bankgate_domain::ids::OperationId;
use bankgate_store::*;
use std::collections::HashSet;
use time::Duration;

mod common;
use common::*;

async fn queued(store: &Store, job: &NewJob) -> JobRecord {
    match store.enqueue_job(job).await.unwrap() {
        Enqueued::Queued(record) => record,
        other => panic!("not queued: {other:?}"),
    }
}

#[tokio::test]
async fn nodes_claiming_at_once_never_share_a_job() {
    with_two_nodes(|a, b| async move {
        let (user, _) = user_with_account(&a, "dana").await;
        let mut ids = HashSet::new();
        for _ in 0..120 {
            ids.insert(queued(&a, &transfer_job(&user, T0, None)).await.id);
        }
        let lease = T0 + Duration::seconds(60);
        let claimer = |store: Store, node: &'static str| async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due_jobs(node, T0, lease, 7).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                assert!(batch
                    .iter()
                    .all(|j| j.state == JobState::Running && j.attempts == 1));
                mine.extend(batch.into_iter().map(|j| j.id));
            }
        };
        let (x, y, z, w) = tokio::join!(
            claimer(a.clone(), "a1"),
            claimer(a.clone(), "a2"),
            claimer(b.clone(), "b1"),
            claimer(b.clone(), "b2")
        );
        let all: Vec<OperationId> = [x, y, z, w].concat();
        assert_eq!(all.len(), 120, "a job was claimed twice or lost");
        assert_eq!(all.into_iter().collect::<HashSet<_>>(), ids);
    })
    .await;
}

#[tokio::test]
async fn a_claim_takes_lapsed_leases_first_then_the_earliest_due_up_to_its_limit() {
    with_each_store(|store| async move {
        let (user, _) = user_with_account(&store, "dana").await;
        let at = |s: i64| T0 + Duration::seconds(s);
        // Two jobs claimed at T0 whose leases lapse at 30 s; four more due at 3, 1, 2 and 50 s.
        let first_two = [
            queued(&store, &transfer_job(&user, T0, None)).await.id,
            queued(&store, &transfer_job(&user, T0, None)).await.id,
        ];
        let claimed = store.claim_due_jobs("a", T0, at(30), 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        let mut due = Vec::new();
        for s in [3, 1, 2, 50] {
            due.push(queued(&store, &transfer_job(&user, at(s), None)).await.id);
        }

        let taken = store.claim_due_jobs("b", at(40), at(100), 3).await.unwrap();
        let ids: HashSet<&OperationId> = taken.iter().map(|j| &j.id).collect();
        assert_eq!(taken.len(), 3, "exactly the limit");
        assert!(first_two.iter().all(|id| ids.contains(id)), "lapsed first");
        assert!(ids.contains(&due[1]), "then the earliest due (1 s)");
        let next = store.claim_due_jobs("b", at(40), at(100), 3).await.unwrap();
        assert_eq!(
            next.iter().map(|j| &j.id).collect::<Vec<_>>(),
            [&due[2], &due[0]],
            "then 2 s and 3 s, in due order; 50 s is not due"
        );
    })
    .await;
}

#[tokio::test]
async fn only_due_jobs_are_claimed_and_a_lapsed_lease_is_taken_over() {
    with_two_nodes(|a, b| async move {
        let (user, _) = user_with_account(&a, "dana").await;
        let later = queued(&a, &transfer_job(&user, T0 + Duration::seconds(10), None)).await;
        let now = queued(&a, &transfer_job(&user, T0, None)).await;
        let lease = T0 + Duration::seconds(60);
        let claimed = a.claim_due_jobs("a", T0, lease, 10).await.unwrap();
        assert_eq!(
            claimed.iter().map(|j| &j.id).collect::<Vec<_>>(),
            vec![&now.id]
        );
        // Before the lease ends nobody else gets it; after, node b does, as its second attempt.
        let soon = T0 + Duration::seconds(59);
        let at_soon = b
            .claim_due_jobs("b", soon, soon + Duration::seconds(60), 10)
            .await
            .unwrap();
        assert_eq!(
            at_soon.iter().map(|j| &j.id).collect::<Vec<_>>(),
            vec![&later.id]
        );
        let lapsed = T0 + Duration::seconds(61);
        let taken = b
            .claim_due_jobs("b", lapsed, lapsed + Duration::seconds(60), 10)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].id, now.id);
        assert_eq!(taken[0].attempts, 2);
        // The first node has lost its claim: neither its log nor its finish lands; the second's do.
        let done = JobOutcome::Done {
            result: "{}".into(),
        };
        let first = JobClaim {
            node: "a",
            attempt: 1,
        };
        let second = JobClaim {
            node: "b",
            attempt: 2,
        };
        assert!(!a
            .save_job_progress(&now.id, &first, "{}", false, lapsed)
            .await
            .unwrap());
        assert!(a
            .finish_job(&now.id, &first, &done, lapsed)
            .await
            .unwrap()
            .is_none());
        assert!(b
            .save_job_progress(&now.id, &second, "{}", false, lapsed)
            .await
            .unwrap());
        assert!(b
            .finish_job(&now.id, &second, &done, lapsed)
            .await
            .unwrap()
            .is_some());
        assert!(b
            .finish_job(&now.id, &second, &done, lapsed)
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn holds_are_decided_by_one_guarded_write() {
    with_two_nodes(|a, b| async move {
        let (user, account) = user_with_account(&a, "dana").await;
        let account = account.id;
        let hold = |store: &Store, cents: i64, position: HoldPosition| {
            let _ = store;
            NewHold {
                account_id: account.clone(),
                amount: usd(cents),
                available_at_back_office: usd(100_00),
                position,
                stand_in_limit: None,
            }
        };
        let position = a.hold_position(&account).await.unwrap();
        // Twenty acceptances of 15.00 against 100.00, from both nodes at once: exactly six fit.
        let attempts = (0..20).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let new = transfer_job(&user, T0, Some(hold(&store, 15_00, position)));
            async move { store.enqueue_job(&new).await.unwrap() }
        });
        let results = futures::future::join_all(attempts).await;
        let placed = results
            .iter()
            .filter(|r| matches!(r, Enqueued::Queued(_)))
            .count();
        assert_eq!(placed, 6, "{results:?}");
        assert!(results
            .iter()
            .all(|r| matches!(r, Enqueued::Queued(_) | Enqueued::InsufficientFunds)));
        assert_eq!(a.held_amounts(&user).await.unwrap()[&account], usd(90_00));

        // Cancelling releases at once and leaves the version alone; ending after execution bumps it.
        let first = match &results
            .iter()
            .find(|r| matches!(r, Enqueued::Queued(_)))
            .unwrap()
        {
            Enqueued::Queued(job) => job.clone(),
            _ => unreachable!(),
        };
        let undo = first.undo_id.clone().unwrap();
        assert!(matches!(
            a.cancel_job(&user, &undo, T0).await.unwrap(),
            Cancelled::Cancelled(_)
        ));
        assert!(matches!(
            a.cancel_job(&user, &undo, T0).await.unwrap(),
            Cancelled::TooLate(_)
        ));
        assert_eq!(
            a.hold_position(&account).await.unwrap(),
            HoldPosition {
                held_minor: 75_00,
                version: 0,
                released_minor: 0,
                released_count: 0
            }
        );
        // The node's memo of held amounts goes with the change's event.
        assert_eq!(a.held_amounts(&user).await.unwrap()[&account], usd(75_00));
        let claimed = a
            .claim_due_jobs("a", T0, T0 + Duration::seconds(60), 1)
            .await
            .unwrap();
        let undo = claimed[0].undo_id.clone().unwrap();
        assert!(matches!(
            a.cancel_job(&user, &undo, T0).await.unwrap(),
            Cancelled::TooLate(_)
        ));
        let done = JobOutcome::Done {
            result: "{}".into(),
        };
        let claim = JobClaim {
            node: "a",
            attempt: claimed[0].attempts,
        };
        a.finish_job(&claimed[0].id, &claim, &done, T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            a.hold_position(&account).await.unwrap(),
            HoldPosition {
                held_minor: 60_00,
                version: 1,
                released_minor: 15_00,
                released_count: 1
            }
        );
        assert_eq!(a.held_amounts(&user).await.unwrap()[&account], usd(60_00));
        // An acceptance that read the position before that execution counts the 15.00 released since
        // as still held (its balance read may not show the debit): 1.00 still fits beside 60.00 held...
        let covered = transfer_job(&user, T0, Some(hold(&a, 1_00, position)));
        assert!(matches!(
            a.enqueue_job(&covered).await.unwrap(),
            Enqueued::Queued(_)
        ));
        // ... 30.00 does not (61 + 15 + 30 > 100), so it is told to read the balance again; read
        // afresh, it fits (61 + 30 <= 100). Without a release since, it would be refused outright.
        let stale = transfer_job(&user, T0, Some(hold(&a, 30_00, position)));
        assert_eq!(a.enqueue_job(&stale).await.unwrap(), Enqueued::StaleBalance);
        let fresh = a.hold_position(&account).await.unwrap();
        let again = transfer_job(&user, T0, Some(hold(&a, 30_00, fresh)));
        assert!(matches!(
            a.enqueue_job(&again).await.unwrap(),
            Enqueued::Queued(_)
        ));
        let too_much = transfer_job(&user, T0, Some(hold(&a, 10_00, fresh)));
        assert_eq!(
            a.enqueue_job(&too_much).await.unwrap(),
            Enqueued::InsufficientFunds
        );
        // A node of an older build releases a hold after execution, moving the version but not the
        // released amounts: an acceptance that read the position before cannot tell how much moved, so
        // it reads again, as the older guard had it.
        let before = a.hold_position(&account).await.unwrap();
        bankgate_db::sqlx::query(
            "UPDATE account_holds SET held_minor = held_minor - 100, version = version + 1 \
             WHERE account_id = $1",
        )
        .bind(account.as_str())
        .execute(a.db().write())
        .await
        .unwrap();
        let small = transfer_job(&user, T0, Some(hold(&a, 1_00, before)));
        assert_eq!(a.enqueue_job(&small).await.unwrap(), Enqueued::StaleBalance);
        let after = a.hold_position(&account).await.unwrap();
        let small = transfer_job(&user, T0, Some(hold(&a, 1_00, after)));
        assert!(matches!(
            a.enqueue_job(&small).await.unwrap(),
            Enqueued::Queued(_)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_client_reference_queues_once() {
    with_two_nodes(|a, b| async move {
        let (user, _) = user_with_account(&a, "dana").await;
        let mut first = transfer_job(&user, T0, None);
        first.kind = JobKind::Remittance;
        first.client_ref = Some("inv-1".into());
        let mut again = first.clone();
        again.id = OperationId::generate();
        let (x, y) = tokio::join!(a.enqueue_job(&first), b.enqueue_job(&again));
        let ids: HashSet<OperationId> = [x.unwrap(), y.unwrap()]
            .into_iter()
            .map(|r| match r {
                Enqueued::Queued(j) | Enqueued::Existing(j) => j.id,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids.len(), 1, "two jobs for one client reference");
        let found = a
            .job_by_client_ref(&user, JobKind::Remittance, "inv-1")
            .await
            .unwrap();
        assert_eq!(found.map(|j| j.id), ids.into_iter().next());
    })
    .await;
}

/// The one job that came out of racing queue attempts, and how many of them queued it.
fn one_job(answers: Vec<Enqueued>) -> (JobRecord, usize) {
    let mut queued = 0;
    let jobs: Vec<JobRecord> = answers
        .into_iter()
        .map(|answer| match answer {
            Enqueued::Queued(j) => {
                queued += 1;
                j
            }
            Enqueued::Existing(j) => j,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        jobs.iter().all(|j| j.id == jobs[0].id),
        "more than one job: {jobs:?}"
    );
    (jobs[0].clone(), queued)
}

#[tokio::test]
async fn a_reference_held_while_open_queues_once_and_is_freed_when_its_job_ends() {
    with_two_nodes(|a, b| async move {
        let (user, _) = user_with_account(&a, "dana").await;
        let deletion = || {
            let mut new = transfer_job(&user, T0 + Duration::seconds(120), None);
            new.kind = JobKind::BeneficiaryDeletion;
            new.client_ref = Some("ben-1".into());
            new
        };
        let race = || async {
            let (one, two, three) = (deletion(), deletion(), deletion());
            let (x, y, z) = tokio::join!(
                a.enqueue_job_unless_open(&one),
                b.enqueue_job_unless_open(&two),
                b.enqueue_job_unless_open(&three)
            );
            one_job(vec![x.unwrap(), y.unwrap(), z.unwrap()])
        };
        let open = || async {
            a.open_undoable_jobs(&user)
                .await
                .unwrap()
                .into_iter()
                .map(|j| j.id)
                .collect::<Vec<_>>()
        };

        // Asked three times at once: one job.
        let (first, fresh) = race().await;
        assert_eq!(fresh, 1);
        assert_eq!(first.state, JobState::Waiting);
        assert_eq!(open().await, vec![first.id.clone()]);

        // Cancelled, it no longer stands in the way, and keeps its own record.
        let undo = first.undo_id.clone().unwrap();
        assert!(matches!(
            a.cancel_job(&user, &undo, T0).await.unwrap(),
            Cancelled::Cancelled(_)
        ));
        let (second, fresh) = race().await;
        assert_eq!(fresh, 1);
        assert_ne!(second.id, first.id);
        assert_ne!(second.undo_id, first.undo_id);
        assert_eq!(open().await, vec![second.id.clone()]);
        let cancelled = a.job(&first.id).await.unwrap().unwrap();
        assert_eq!(cancelled.state, JobState::Cancelled);
        assert_eq!(cancelled.client_ref, None);

        // Running, it is still the one answered; failed, a new one is queued.
        let lease = T0 + Duration::seconds(60);
        let running = a.claim_job(&second.id, "a", T0, lease).await.unwrap();
        assert!(running.is_some());
        let (still, fresh) = race().await;
        assert_eq!((still.id.clone(), fresh), (second.id.clone(), 0));
        assert_eq!(still.state, JobState::Running);
        let claim = JobClaim {
            node: "a",
            attempt: 1,
        };
        let failed = JobOutcome::Failed {
            reason: "refused".into(),
        };
        a.finish_job(&second.id, &claim, &failed, T0)
            .await
            .unwrap()
            .unwrap();
        let (third, fresh) = race().await;
        assert_eq!(fresh, 1);
        assert!(third.id != first.id && third.id != second.id);
        assert_eq!(
            a.job_by_client_ref(&user, JobKind::BeneficiaryDeletion, "ben-1")
                .await
                .unwrap()
                .map(|j| j.id),
            Some(third.id.clone())
        );

        // A reference held for good is not freed by its job ending.
        let mut remittance = transfer_job(&user, T0, None);
        remittance.kind = JobKind::Remittance;
        remittance.client_ref = Some("inv-9".into());
        let kept = queued(&a, &remittance).await;
        a.cancel_job(&user, kept.undo_id.as_deref().unwrap(), T0)
            .await
            .unwrap();
        let mut again = remittance.clone();
        again.id = OperationId::generate();
        match a.enqueue_job(&again).await.unwrap() {
            Enqueued::Existing(j) => assert_eq!(j.id, kept.id),
            other => panic!("{other:?}"),
        }
    })
    .await;
}

/// How old an unanswered Idempotency-Key claim is before a retry takes it over.
const ABANDON: Duration = Duration::minutes(1);

#[tokio::test]
async fn idempotency_records_replay_refuse_and_free() {
    with_two_nodes(|a, _b| async move {
        let (user, _) = user_with_account(&a, "dana").await;
        let fresh = |begun: IdempotencyBegin| match begun {
            IdempotencyBegin::Fresh(claim) => claim,
            other => panic!("not fresh: {other:?}"),
        };
        let k1 = fresh(
            a.begin_idempotent(&user, "k1", "h1", T0, ABANDON)
                .await
                .unwrap(),
        );
        assert_eq!(
            a.begin_idempotent(&user, "k1", "h1", T0, ABANDON)
                .await
                .unwrap(),
            IdempotencyBegin::InFlight
        );
        let response = StoredResponse {
            status: 200,
            body: "{\"success\":true}".into(),
        };
        a.complete_idempotent(&user, "k1", k1, &response)
            .await
            .unwrap();
        assert_eq!(
            a.begin_idempotent(&user, "k1", "h1", T0, ABANDON)
                .await
                .unwrap(),
            IdempotencyBegin::Replay(response.clone())
        );
        assert_eq!(
            a.begin_idempotent(&user, "k1", "h2", T0, ABANDON)
                .await
                .unwrap(),
            IdempotencyBegin::Mismatch
        );
        // A request that ended in a way worth retrying frees its key.
        let k2 = fresh(
            a.begin_idempotent(&user, "k2", "h1", T0, ABANDON)
                .await
                .unwrap(),
        );
        a.abandon_idempotent(&user, "k2", k2).await.unwrap();
        fresh(
            a.begin_idempotent(&user, "k2", "h1", T0, ABANDON)
                .await
                .unwrap(),
        );
        // A claim whose request died is taken over once older than the abandon time; the first
        // request, finishing late, records nothing, and the taker's answer stands.
        let first = fresh(
            a.begin_idempotent(&user, "k3", "h1", T0, ABANDON)
                .await
                .unwrap(),
        );
        assert_eq!(
            a.begin_idempotent(&user, "k3", "h1", T0 + ABANDON, ABANDON)
                .await
                .unwrap(),
            IdempotencyBegin::InFlight
        );
        let later = T0 + ABANDON + Duration::milliseconds(1);
        let taker = fresh(
            a.begin_idempotent(&user, "k3", "h1", later, ABANDON)
                .await
                .unwrap(),
        );
        let late = StoredResponse {
            status: 500,
            body: "late".into(),
        };
        a.abandon_idempotent(&user, "k3", first).await.unwrap();
        a.complete_idempotent(&user, "k3", first, &late)
            .await
            .unwrap();
        assert_eq!(
            a.begin_idempotent(&user, "k3", "h1", later, ABANDON)
                .await
                .unwrap(),
            IdempotencyBegin::InFlight
        );
        a.complete_idempotent(&user, "k3", taker, &response)
            .await
            .unwrap();
        assert_eq!(
            a.begin_idempotent(&user, "k3", "h1", later, ABANDON)
                .await
                .unwrap(),
            IdempotencyBegin::Replay(response)
        );
        // Pruning forgets old keys only.
        assert_eq!(
            a.prune_idempotency_keys(T0 + Duration::seconds(1))
                .await
                .unwrap(),
            2
        );
    })
    .await;
}
