//! Payments out of the bank over each rail, the card vault behind push-to-card, refused payees, and
//! replays by key.

use crate::common::{code, key, usd, Harness};
use bankgate_backoffice::{BoAccount, CardToVault, Payee, PaymentsApi, Payout, Rail};
use bankgate_db::testing::test_engines;
use bankgate_domain::card::Expiry;
use bankgate_domain::ids::BoRef;
use bankgate_domain::{Currency, Money};
use time::Duration;

fn payee(rail: Rail, details: &[(&str, &str)]) -> Payee {
    Payee {
        rail,
        name: "Grace Hopper".into(),
        details: details
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn payout(account: &BoAccount, amount: Money, payee: Payee) -> Payout {
    Payout {
        account: account.id_bo.clone(),
        amount,
        payee,
        narrative: "Rent".into(),
        reference: "op_pay1".into(),
    }
}

fn card(pan: &str, year: i32, month: u8) -> CardToVault {
    CardToVault {
        pan: pan.into(),
        expiry: Expiry { year, month },
        holder_name: "GRACE HOPPER".into(),
    }
}

async fn vault(h: &Harness, card: &CardToVault) -> BoRef {
    h.sandbox.vault_card(card, &key()).await.unwrap()
}

#[tokio::test]
async fn every_rail_pays_out_through_clearing() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::USD, 100_000).await;
        let card_ref = vault(&h, &card("4111111111111111", 2027, 8)).await;
        assert!(card_ref.as_str().starts_with("vc_"), "{card_ref:?}");
        let payees = [
            payee(
                Rail::Ach,
                &[
                    ("routingNumber", "011000015"),
                    ("accountNumber", "12345678"),
                ],
            ),
            payee(
                Rail::Wire,
                &[
                    ("routingNumber", "011000015"),
                    ("accountNumber", "87654321"),
                ],
            ),
            payee(
                Rail::Swift,
                &[("iban", "DE89370400440532013000"), ("bic", "COBADEFFXXX")],
            ),
            payee(Rail::Paypal, &[("paypalId", "grace@example.com")]),
            payee(Rail::PushToCard, &[("cardRef", card_ref.as_str())]),
            payee(
                Rail::Cheque,
                &[
                    ("addressLine1", "1 Main St"),
                    ("city", "Arlington"),
                    ("postalCode", "22201"),
                ],
            ),
        ];
        for (i, payee) in payees.into_iter().enumerate() {
            let rail = payee.rail;
            let request = Payout {
                reference: format!("op_pay{i}"),
                ..payout(&account, usd(1_000), payee)
            };
            let line = h.sandbox.pay_out(&request, &key()).await.unwrap();
            assert_eq!(line.amount, usd(-1_000), "{rail:?}");
            assert_eq!(
                (line.txn_type.as_str(), line.type_name.as_str()),
                ("payment", "Payment")
            );
            assert_eq!((line.narrative.as_str(), line.fx), ("Rent", None));
            assert_eq!(line.reference, format!("op_pay{i}"));
            assert_eq!(h.lines(&account).await[0], line);
        }
        assert_eq!(h.balance(&account).await, 100_000 - 6_000);
        assert_eq!(h.posted_balance("int_payouts_usd").await, 6_000);
        assert_eq!(h.count("SELECT COUNT(*) FROM sbx_payouts").await, 6);
        assert_eq!(
            h.count("SELECT COUNT(*) FROM sbx_payouts WHERE rail = 'push_to_card'")
                .await,
            1
        );
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn refused_payees_and_short_accounts_write_nothing() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::USD, 5_000).await;
        let expiring = vault(&h, &card("5555555555554444", 2024, 1)).await;
        // A card vaulted at another sandbox is nothing this one can pay to.
        let elsewhere = Harness::new(engine).await;
        let foreign = vault(&elsewhere, &card("4111111111111111", 2027, 8)).await;
        h.clock.advance(Duration::days(30));
        let before = h.snapshot(&[&account]).await;

        let refused_payees = [
            payee(Rail::Ach, &[("routingNumber", "011000015")]),
            payee(Rail::Wire, &[("accountNumber", "87654321")]),
            payee(
                Rail::Swift,
                &[("iban", "DE89370400440532013000"), ("bic", " ")],
            ),
            payee(
                Rail::Swift,
                &[("routingNumber", "011000015"), ("accountNumber", "1")],
            ),
            payee(Rail::Paypal, &[]),
            payee(Rail::PushToCard, &[("pan", "4111111111111111")]),
            payee(Rail::PushToCard, &[("cardRef", "vc_unknown")]),
            payee(Rail::PushToCard, &[("cardRef", foreign.as_str())]),
            payee(Rail::PushToCard, &[("cardRef", expiring.as_str())]),
            payee(
                Rail::Cheque,
                &[("addressLine1", "1 Main St"), ("city", "Arlington")],
            ),
            Payee {
                name: "".into(),
                ..payee(Rail::Paypal, &[("paypalId", "grace@example.com")])
            },
        ];
        for payee in refused_payees {
            let request = payout(&account, usd(100), payee);
            let refused = h.sandbox.pay_out(&request, &key()).await;
            assert_eq!(code(refused), "PAYEE_INVALID", "{:?}", request.payee);
        }
        let paypal = payee(Rail::Paypal, &[("paypalId", "grace@example.com")]);
        let short = payout(&account, usd(5_001), paypal.clone());
        assert_eq!(
            code(h.sandbox.pay_out(&short, &key()).await),
            "INSUFFICIENT_FUNDS"
        );
        let euros = payout(&account, Money::new(100, Currency::EUR), paypal.clone());
        assert_eq!(
            code(h.sandbox.pay_out(&euros, &key()).await),
            "CURRENCY_MISMATCH"
        );
        let nothing = payout(&account, usd(0), paypal);
        assert_eq!(
            code(h.sandbox.pay_out(&nothing, &key()).await),
            "INVALID_AMOUNT"
        );

        assert_eq!(h.snapshot(&[&account]).await, before);
        assert_eq!(h.count("SELECT COUNT(*) FROM sbx_payouts").await, 0);
    }
}

#[tokio::test]
async fn payouts_and_vaulting_apply_once_per_key() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        let account = h.funded(Currency::USD, 2_000).await;
        let to_vault = card("4111111111111111", 2027, 8);
        let once = key();
        let card_ref = h.sandbox.vault_card(&to_vault, &once).await.unwrap();
        assert_eq!(
            h.sandbox.vault_card(&to_vault, &once).await.unwrap(),
            card_ref
        );
        assert_eq!(h.count("SELECT COUNT(*) FROM sbx_vault_cards").await, 1);

        let request = payout(
            &account,
            usd(2_000),
            payee(Rail::PushToCard, &[("cardRef", card_ref.as_str())]),
        );
        let first = h.sandbox.pay_out(&request, &once).await.unwrap();
        h.clock.advance(Duration::minutes(1));
        let again = h.sandbox.pay_out(&request, &once).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(h.balance(&account).await, 0);
        assert_eq!(h.count("SELECT COUNT(*) FROM sbx_payouts").await, 1);
        assert_eq!(h.posted_balance("int_payouts_usd").await, 2_000);
        h.assert_ledger_clean().await;
    }
}

#[tokio::test]
async fn only_valid_cards_are_vaulted_and_numbers_stay_inside() {
    for engine in test_engines() {
        let h = Harness::new(engine).await;
        for (bad, expected) in [
            (card("4111111111111112", 2027, 8), "CARD_INVALID"),
            (card("411111111111111x", 2027, 8), "CARD_INVALID"),
            (card("4111111111111111", 2027, 0), "CARD_INVALID"),
            (card("4111111111111111", 2023, 12), "CARD_EXPIRED"),
        ] {
            assert_eq!(code(h.sandbox.vault_card(&bad, &key()).await), expected);
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM sbx_vault_cards").await, 0);

        let card_ref = vault(&h, &card("4111111111111111", 2027, 8)).await;
        assert!(!card_ref.as_str().contains("1111"), "{card_ref:?}");
        let stored = h
            .count("SELECT COUNT(*) FROM sbx_idempotency WHERE result LIKE '%4111%'")
            .await;
        assert_eq!(
            stored, 0,
            "the recorded result is the reference, never the number"
        );
    }
}
