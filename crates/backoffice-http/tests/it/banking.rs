//! Every capability through the adapter: what it answers is what the sandbox itself reports, and what it
//! changes is changed at the sandbox.

use crate::common::{all_lines, key, usd, Remote, START};
use bankgate_backoffice::{
    AccountsApi, AuthorizationOutcome, AuthorizationRequest, BackOffice, BookTransfer,
    CardAuthorizationApi, CardToVault, CardsApi, ChangesApi, FxDetail, IssueCard, LegKind, Payee,
    PaymentsApi, Payout, RatesApi, SettlementLeg, TransactionQuery, TransfersApi,
};
use bankgate_db::testing::test_engines;
use bankgate_domain::beneficiary::Rail;
use bankgate_domain::card::{Expiry, Pin, ReissueReason};
use bankgate_domain::restrictions::{DeclineReason, FlagMap, Patch, RestrictionUpdate};
use bankgate_domain::{Currency, Money, Rate};
use std::collections::BTreeMap;
use time::{Duration, PrimitiveDateTime};

fn purchase(card: &bankgate_backoffice::BoCard, minor: i64, mcc: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        card_id_bo: card.id_bo.clone(),
        amount: usd(minor),
        mcc: mcc.into(),
        merchant: Some("Corner Grocery".into()),
        local_time: PrimitiveDateTime::new(START.date(), START.time()),
        at: START,
    }
}

#[tokio::test]
async fn customers_accounts_and_transactions() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        r.client.health().await.unwrap();
        assert_eq!(r.client.display_name(), crate::common::ID);

        let customer = r.customer().await;
        let checking = r.account(&customer, Currency::USD).await;
        let euro = r.account(&customer, Currency::EUR).await;
        assert_eq!(checking.customer_id_bo, customer);
        assert_eq!(checking.ledger, usd(0));
        assert_eq!(euro.available, Money::new(0, Currency::EUR));

        let deposit = r
            .deposit_with(&r.client, &checking, 12_345, &key())
            .await
            .unwrap();
        assert_eq!(deposit.amount, usd(12_345));
        assert_eq!(deposit.account_id_bo, checking.id_bo);
        assert_eq!(r.balance(&checking).await, 12_345);

        // Reads through the adapter equal the sandbox's own answers, field for field.
        let listed = r.client.list_accounts(&customer).await.unwrap();
        assert_eq!(listed, r.direct.list_accounts(&customer).await.unwrap());
        assert_eq!(listed.len(), 2);
        let got = r.client.get_account(&checking.id_bo).await.unwrap();
        assert_eq!(got, r.direct.get_account(&checking.id_bo).await.unwrap());
        assert_eq!((got.ledger, got.available), (usd(12_345), usd(12_345)));

        let renamed = r
            .client
            .rename_account(&checking.id_bo, "Bills")
            .await
            .unwrap();
        assert_eq!(renamed.name, "Bills");
        assert_eq!(
            r.direct.get_account(&checking.id_bo).await.unwrap().name,
            "Bills"
        );

        let latest = r
            .client
            .list_transactions(&checking.id_bo, &all_lines())
            .await
            .unwrap();
        assert_eq!(latest, vec![deposit.clone()]);
        let day = START.date();
        let range = TransactionQuery::Range { from: day, to: day };
        assert_eq!(
            r.client
                .list_transactions(&checking.id_bo, &range)
                .await
                .unwrap(),
            vec![deposit]
        );
        let yesterday = day - Duration::days(1);
        let before = TransactionQuery::Range {
            from: yesterday,
            to: yesterday,
        };
        assert!(r
            .client
            .list_transactions(&checking.id_bo, &before)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn cards_and_their_controls() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        let account = r.funded(Currency::USD, 50_000).await;
        let request = IssueCard {
            name_on_card: "ADA LOVELACE".into(),
            type_id: "debit".into(),
            activated: false,
        };
        let card = r
            .client
            .issue_card(&account.id_bo, &request, &key())
            .await
            .unwrap();
        assert!(!card.activated && card.enabled);
        assert_eq!(card.account_id_bo, account.id_bo);
        let listed = r.client.list_cards(&account.customer_id_bo).await.unwrap();
        assert_eq!(listed, vec![card.clone()]);

        // Not activated yet: the network declines.
        let declined = r.client.authorize(&purchase(&card, 1_000, "5411")).await;
        assert_eq!(
            declined.unwrap(),
            AuthorizationOutcome::Declined {
                reason: DeclineReason::CardNotActivated
            }
        );
        let active = r.client.activate_card(&card.id_bo).await.unwrap();
        assert!(active.activated);
        assert_eq!(active.activated_at, Some(START));

        // Off, then on.
        let off = r.client.set_card_enabled(&card.id_bo, false).await.unwrap();
        assert!(!off.enabled);
        let declined = r.client.authorize(&purchase(&card, 1_000, "5411")).await;
        assert_eq!(
            declined.unwrap(),
            AuthorizationOutcome::Declined {
                reason: DeclineReason::CardOff
            }
        );
        assert!(
            r.client
                .set_card_enabled(&card.id_bo, true)
                .await
                .unwrap()
                .enabled
        );

        // A restriction set, obeyed, and cleared (`null` clears, absence keeps).
        let restaurants = FlagMap::from([("5812".to_owned(), true)]);
        let sundays = FlagMap::from([("0".to_owned(), false)]);
        let update = RestrictionUpdate {
            restricted_mccs: Patch::Set(restaurants),
            day_of_week: Patch::Set(sundays.clone()),
            ..RestrictionUpdate::default()
        };
        let restricted = r
            .client
            .update_restrictions(&card.id_bo, &update)
            .await
            .unwrap();
        // The sandbox keeps restricted MCCs flagged false, as the contract's update rules say.
        let restaurants_stored = FlagMap::from([("5812".to_owned(), false)]);
        assert_eq!(
            restricted.restrictions.restricted_mccs,
            Some(restaurants_stored)
        );
        assert_eq!(restricted, r.direct.get_card(&card.id_bo).await.unwrap());
        assert_eq!(restricted.restrictions.day_of_week, Some(sundays.clone()));
        assert_eq!(
            r.client
                .authorize(&purchase(&card, 1_000, "5812"))
                .await
                .unwrap(),
            AuthorizationOutcome::Declined {
                reason: DeclineReason::MccRestricted
            }
        );
        let clear = RestrictionUpdate {
            restricted_mccs: Patch::Clear,
            ..RestrictionUpdate::default()
        };
        let cleared = r
            .client
            .update_restrictions(&card.id_bo, &clear)
            .await
            .unwrap();
        assert_eq!(cleared.restrictions.restricted_mccs, None);
        assert_eq!(cleared.restrictions.day_of_week, Some(sundays));

        // Approved: the purchase is on the account.
        let approved = r
            .client
            .authorize(&purchase(&card, 1_250, "5812"))
            .await
            .unwrap();
        let AuthorizationOutcome::Approved { transaction } = approved else {
            panic!("expected an approval, got {approved:?}");
        };
        assert_eq!(transaction.amount, usd(-1_250));
        assert_eq!(transaction.card_id_bo.as_ref(), Some(&card.id_bo));
        assert_eq!(r.balance(&account).await, 50_000 - 1_250);
        assert_eq!(r.lines(&account).await[0], transaction);

        // A PIN is stored (as a hash).
        let pin = Pin::parse_digits("4321").unwrap();
        r.client.set_pin(&card.id_bo, &pin).await.unwrap();
        let (hash,): (Option<String>,) =
            bankgate_db::sqlx::query_as("SELECT pin_hash FROM sbx_cards WHERE id = $1")
                .bind(card.id_bo.as_str())
                .fetch_one(r.peek.read())
                .await
                .unwrap();
        assert!(hash.is_some_and(|h| !h.contains("4321")));

        // Reissue: lost keeps the number, stolen replaces it; both need activating again.
        let lost = r
            .client
            .reissue_card(&card.id_bo, ReissueReason::Lost)
            .await
            .unwrap();
        assert_eq!(lost.number_masked, card.number_masked);
        assert!(!lost.activated);
        let stolen = r
            .client
            .reissue_card(&card.id_bo, ReissueReason::Stolen)
            .await
            .unwrap();
        assert_eq!(stolen.id_bo, card.id_bo);
        assert!(!stolen.activated);
        assert_eq!(
            r.client.get_card(&card.id_bo).await.unwrap(),
            r.direct.get_card(&card.id_bo).await.unwrap()
        );
    }
}

#[tokio::test]
async fn transfers_settlement_legs_payouts_and_rates() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        let alice = r.funded(Currency::USD, 100_000).await;
        let bob = r.funded(Currency::USD, 0).await;

        let transfer = BookTransfer {
            from: alice.id_bo.clone(),
            to: bob.id_bo.clone(),
            debit: usd(10_000),
            credit: usd(10_000),
            rate: None,
            narrative_debit: "To Bob".into(),
            narrative_credit: "From Alice".into(),
            reference: "bgopr1".into(),
        };
        let legs = r.client.book_transfer(&transfer, &key()).await.unwrap();
        assert_eq!(legs.debit.amount, usd(-10_000));
        assert_eq!(legs.credit.amount, usd(10_000));
        assert_eq!(legs.debit.reference, "bgopr1");
        assert_eq!(
            (r.balance(&alice).await, r.balance(&bob).await),
            (90_000, 10_000)
        );

        // Out through settlement, and back as a reversal.
        let leg = SettlementLeg {
            account: alice.id_bo.clone(),
            amount: usd(3_000),
            kind: LegKind::Transfer,
            narrative: "To Carol at North Bank".into(),
            reference: "bgopr2".into(),
            fx: None,
        };
        let debit = r.client.debit_to_settlement(&leg, &key()).await.unwrap();
        assert_eq!(debit.amount, usd(-3_000));
        assert_eq!(r.balance(&alice).await, 87_000);
        let back = SettlementLeg {
            kind: LegKind::Reversal,
            ..leg.clone()
        };
        let credit = r
            .client
            .credit_from_settlement(&back, &key())
            .await
            .unwrap();
        assert_eq!(credit.amount, usd(3_000));
        assert_eq!(credit.txn_type, "reversal");
        assert_eq!(r.balance(&alice).await, 90_000);

        // A converted credit arriving from another bank carries its rate.
        let euro = r.funded(Currency::EUR, 0).await;
        let rate = Rate::parse("0.92").unwrap();
        let converted = SettlementLeg {
            account: euro.id_bo.clone(),
            amount: Money::new(920, Currency::EUR),
            kind: LegKind::Transfer,
            narrative: "From Dan at South Bank".into(),
            reference: "bgopr3".into(),
            fx: Some(FxDetail {
                rate,
                counter_amount: usd(1_000),
            }),
        };
        let arrived = r
            .client
            .credit_from_settlement(&converted, &key())
            .await
            .unwrap();
        assert_eq!(arrived.fx, converted.fx);
        assert_eq!(r.balance(&euro).await, 920);

        // Payouts: to a bank account, and to a vaulted card.
        let ach = Payee {
            rail: Rail::Ach,
            name: "Landlord".into(),
            details: BTreeMap::from([
                ("routingNumber".to_owned(), "021000021".to_owned()),
                ("accountNumber".to_owned(), "123456789".to_owned()),
            ]),
        };
        let payout = Payout {
            account: alice.id_bo.clone(),
            amount: usd(2_500),
            payee: ach,
            narrative: "Rent".into(),
            reference: "bgopr4".into(),
        };
        let paid = r.client.pay_out(&payout, &key()).await.unwrap();
        assert_eq!(paid.amount, usd(-2_500));
        assert_eq!(r.balance(&alice).await, 87_500);

        let vaulted = r
            .client
            .vault_card(
                &CardToVault {
                    pan: "4111111111111111".into(),
                    expiry: Expiry {
                        year: 2030,
                        month: 12,
                    },
                    holder_name: "CAROL CARD".into(),
                },
                &key(),
            )
            .await
            .unwrap();
        let to_card = Payout {
            payee: Payee {
                rail: Rail::PushToCard,
                name: "Carol".into(),
                details: BTreeMap::from([("cardRef".to_owned(), vaulted.0.clone())]),
            },
            reference: "bgopr5".into(),
            ..payout.clone()
        };
        let pushed = r.client.pay_out(&to_card, &key()).await;
        assert_eq!(pushed.unwrap().amount, usd(-2_500));
        assert_eq!(r.balance(&alice).await, 85_000);

        let board = r.client.rate_board().await.unwrap();
        assert_eq!(board, r.direct.rate_board().await.unwrap());
        assert_eq!(
            board.conversion_rate(Currency::USD, Currency::EUR),
            Some(rate)
        );

        // The change feed reads the same through the adapter, from any position.
        let feed = r.client.changes_since(0, 1_000).await.unwrap();
        assert!(!feed.is_empty());
        assert_eq!(feed, r.direct.changes_since(0, 1_000).await.unwrap());
        let tail = r.client.changes_since(feed[0].seq, 1).await.unwrap();
        assert_eq!(tail, feed[1..2]);

        let report = r.client.ledger_report().await.unwrap();
        assert_eq!(report, r.direct.ledger_report().await.unwrap());
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.currency_totals.get(&Currency::USD), Some(&0));
    }
}

#[tokio::test]
async fn a_keyed_call_repeated_applies_once() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        let alice = r.funded(Currency::USD, 10_000).await;
        let bob = r.funded(Currency::USD, 0).await;

        let once = key();
        let first = r.deposit_with(&r.client, &alice, 500, &once).await.unwrap();
        let again = r.deposit_with(&r.client, &alice, 500, &once).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(r.balance(&alice).await, 10_500);

        let transfer = BookTransfer {
            from: alice.id_bo.clone(),
            to: bob.id_bo.clone(),
            debit: usd(1_000),
            credit: usd(1_000),
            rate: None,
            narrative_debit: "To Bob".into(),
            narrative_credit: "From Alice".into(),
            reference: "bgopr9".into(),
        };
        let transfer_key = key();
        let legs = r
            .client
            .book_transfer(&transfer, &transfer_key)
            .await
            .unwrap();
        let repeat = r
            .client
            .book_transfer(&transfer, &transfer_key)
            .await
            .unwrap();
        assert_eq!(legs, repeat);
        assert_eq!(
            (r.balance(&alice).await, r.balance(&bob).await),
            (9_500, 1_000)
        );
        assert_eq!(r.lines(&alice).await.len(), 3, "two deposits and one debit");
    }
}

#[tokio::test]
async fn the_api_describes_itself() {
    let r = Remote::start(bankgate_db::Engine::Sqlite).await;
    let response = r.http.get(r.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["info"]["title"], "bankgate back office");
    assert!(doc["paths"]["/transfers/debit-to-settlement"]["post"].is_object());
    assert_eq!(
        doc,
        serde_json::to_value(bankgate_backoffice_http::openapi()).unwrap()
    );
}
