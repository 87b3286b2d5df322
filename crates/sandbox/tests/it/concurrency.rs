//! Concurrent movements: debits through every path share one guard, so no interleaving overdraws an
//! account; transfers in opposite directions do not deadlock; concurrent repeats of one key move once.

use crate::common::{code, key, usd, Harness};
use bankgate_backoffice::{
    BoAccount, BookTransfer, LegKind, Payee, PaymentsApi, Payout, Rail, SettlementLeg, TransfersApi,
};
use bankgate_db::testing::test_engines;
use bankgate_db::Engine;
use bankgate_domain::Currency;
use bankgate_sandbox::Sandbox;
use std::sync::Arc;

fn transfer(from: &BoAccount, to: &BoAccount, minor: i64) -> BookTransfer {
    BookTransfer {
        from: from.id_bo.clone(),
        to: to.id_bo.clone(),
        debit: usd(minor),
        credit: usd(minor),
        rate: None,
        narrative_debit: "out".into(),
        narrative_credit: "in".into(),
        reference: "op_c".into(),
    }
}

/// The `i`th of a mix of 10.00 debits: a book transfer, a settlement leg or a payout.
async fn debit_by_any_path(
    sandbox: Arc<Sandbox>,
    i: usize,
    from: BoAccount,
    to: BoAccount,
) -> Result<(), &'static str> {
    let result = match i % 3 {
        0 => sandbox
            .book_transfer(&transfer(&from, &to, 1_000), &key())
            .await
            .map(drop),
        1 => {
            let leg = SettlementLeg {
                account: from.id_bo.clone(),
                amount: usd(1_000),
                kind: LegKind::Transfer,
                narrative: "out".into(),
                reference: "op_c".into(),
                fx: None,
            };
            sandbox.debit_to_settlement(&leg, &key()).await.map(drop)
        }
        _ => {
            let payout = Payout {
                account: from.id_bo.clone(),
                amount: usd(1_000),
                payee: Payee {
                    rail: Rail::Paypal,
                    name: "Grace".into(),
                    details: [("paypalId".to_owned(), "g@example.com".to_owned())].into(),
                },
                narrative: "out".into(),
                reference: "op_c".into(),
            };
            sandbox.pay_out(&payout, &key()).await.map(drop)
        }
    };
    result.map_err(|refused| code(Err::<(), _>(refused)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_debits_never_overdraw() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let from = h.funded(Currency::USD, 10_000).await;
        let to = h.funded(Currency::USD, 0).await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (sandbox, from, to) = (h.sandbox.clone(), from.clone(), to.clone());
                tokio::spawn(debit_by_any_path(sandbox, i, from, to))
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let approved = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(approved, 10, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(()) | Err("INSUFFICIENT_FUNDS"))),
            "{outcomes:?}"
        );
        assert_eq!(h.balance(&from).await, 0);
        // Every approved debit has its line and its entry.
        assert_eq!(h.lines(&from).await.len(), 1 + 10);
        let settled = h.posted_balance("int_settlement_usd").await;
        let paid = h.posted_balance("int_payouts_usd").await;
        assert_eq!(h.balance(&to).await + settled + paid, 10_000);
        h.assert_ledger_clean().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opposite_transfers_do_not_deadlock() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let a = h.funded(Currency::USD, 10_000).await;
        let b = h.funded(Currency::USD, 10_000).await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let sandbox = h.sandbox.clone();
                let request = if i % 2 == 0 {
                    transfer(&a, &b, 100 + i)
                } else {
                    transfer(&b, &a, 100 + i)
                };
                tokio::spawn(async move { sandbox.book_transfer(&request, &key()).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        // Even i (0, 2, ..., 18) go a->b, odd ones b->a: a sends 1090 and receives 1100.
        assert_eq!(h.balance(&a).await, 10_000 - 1_090 + 1_100);
        assert_eq!(h.balance(&b).await, 10_000 + 1_090 - 1_100);
        h.assert_ledger_clean().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_repeats_of_one_transfer_move_once() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        // Enough for exactly one: a repeat that lost the race must still answer with the winner's legs,
        // not a refusal for the money the winner moved.
        let from = h.funded(Currency::USD, 1_000).await;
        let to = h.funded(Currency::USD, 0).await;
        // On PostgreSQL both calls can pass the idempotency lookup before either records (SQLite's one
        // writer runs them one after the other). Holding the account's row from another connection
        // makes every call do so and queue at the debit, so the race happens every time.
        let blocker = if engine == Engine::Postgres {
            let mut tx = h.peek.write().begin().await.unwrap();
            bankgate_db::sqlx::query(
                "UPDATE sbx_accounts SET updated_at = updated_at WHERE id = $1",
            )
            .bind(from.id_bo.as_str())
            .execute(&mut *tx)
            .await
            .unwrap();
            Some(tx)
        } else {
            None
        };
        let once = key();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (sandbox, once) = (h.sandbox.clone(), once.clone());
                let request = transfer(&from, &to, 1_000);
                tokio::spawn(async move { sandbox.book_transfer(&request, &once).await })
            })
            .collect();
        if let Some(blocker) = blocker {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            blocker.commit().await.unwrap();
        }
        let mut legs = Vec::new();
        for task in tasks {
            legs.push(task.await.unwrap().unwrap());
        }
        legs.dedup();
        assert_eq!(legs.len(), 1, "every repeat answers with the one transfer");
        assert_eq!((h.balance(&from).await, h.balance(&to).await), (0, 1_000));
        assert_eq!(h.lines(&to).await.len(), 1);
        h.assert_ledger_clean().await;
    }
}
