//! Errors cross the wire as the variant they were, and malformed requests are told so in the same body.

use crate::common::{code, id, key, usd, Remote};
use async_trait::async_trait;
use bankgate_backoffice::{
    AccountsApi, BackOffice, BackOfficeError, BookTransfer, CardsApi, CustomersApi, PaymentsApi,
    RatesApi, TransfersApi,
};
use bankgate_backoffice_http::{BackOfficeServer, HttpBackOffice};
use bankgate_db::testing::test_engines;
use bankgate_db::Engine;
use bankgate_domain::card::ReissueReason;
use bankgate_domain::ids::{BackOfficeId, BoRef};
use bankgate_domain::restrictions::{FlagMap, Patch, RestrictionUpdate};
use bankgate_domain::Currency;
use bankgate_sandbox::Sandbox;
use std::sync::Arc;

#[tokio::test]
async fn not_found_and_refusals_keep_their_meaning() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        let nobody = BoRef("cu_nobody".into());
        assert_eq!(
            r.client.get_account(&BoRef("ac_none".into())).await,
            Err(BackOfficeError::NotFound("account"))
        );
        assert_eq!(
            r.client.get_card(&BoRef("cd_none".into())).await,
            Err(BackOfficeError::NotFound("card"))
        );
        assert_eq!(
            r.client.list_accounts(&nobody).await,
            Err(BackOfficeError::NotFound("customer"))
        );
        assert_eq!(
            r.client
                .reissue_card(&BoRef("cd_none".into()), ReissueReason::Lost)
                .await,
            Err(BackOfficeError::NotFound("card"))
        );

        let alice = r.funded(Currency::USD, 1_000).await;
        let bob = r.funded(Currency::USD, 0).await;
        let too_much = BookTransfer {
            from: alice.id_bo.clone(),
            to: bob.id_bo.clone(),
            debit: usd(5_000),
            credit: usd(5_000),
            rate: None,
            narrative_debit: "To Bob".into(),
            narrative_credit: "From Alice".into(),
            reference: "bgopr1".into(),
        };
        let refused = r.client.book_transfer(&too_much, &key()).await;
        let direct = r.direct.book_transfer(&too_much, &key()).await;
        assert_eq!(refused, direct, "the same refusal, message and all");
        assert_eq!(code(refused), "INSUFFICIENT_FUNDS");
        assert_eq!(r.balance(&alice).await, 1_000);

        let same = BookTransfer {
            to: alice.id_bo.clone(),
            debit: usd(1),
            credit: usd(1),
            ..too_much
        };
        assert_eq!(
            code(r.client.book_transfer(&same, &key()).await),
            "SAME_ACCOUNT"
        );

        let card = r
            .client
            .issue_card(
                &alice.id_bo,
                &bankgate_backoffice::IssueCard {
                    name_on_card: "ADA".into(),
                    type_id: "debit".into(),
                    activated: true,
                },
                &key(),
            )
            .await
            .unwrap();
        let both_lists = RestrictionUpdate {
            allowed_mccs: Patch::Set(FlagMap::from([("5411".to_owned(), true)])),
            restricted_mccs: Patch::Set(FlagMap::from([("5812".to_owned(), true)])),
            ..RestrictionUpdate::default()
        };
        assert_eq!(
            code(r.client.update_restrictions(&card.id_bo, &both_lists).await),
            "RESTRICTION_CONFLICT"
        );
    }
}

/// A back office that only has customers and accounts: the rest must answer `unsupported`.
struct AccountsOnly(Arc<Sandbox>);

#[async_trait]
impl BackOffice for AccountsOnly {
    fn id(&self) -> &BackOfficeId {
        self.0.id()
    }

    async fn health(&self) -> Result<(), BackOfficeError> {
        self.0.health().await
    }

    fn customers(&self) -> Option<&dyn CustomersApi> {
        Some(self.0.as_ref())
    }

    fn accounts(&self) -> Option<&dyn AccountsApi> {
        Some(self.0.as_ref())
    }
}

#[tokio::test]
async fn a_missing_capability_is_unsupported() {
    let r = Remote::start(Engine::Sqlite).await;
    let limited = Arc::new(AccountsOnly(Arc::new(
        Sandbox::open(id(), r.peek.clone(), Arc::new(r.clock.clone()))
            .await
            .unwrap(),
    )));
    let server = BackOfficeServer::start("127.0.0.1:0".parse().unwrap(), limited, None)
        .await
        .unwrap();
    let client = HttpBackOffice::new(id(), &server.url()).unwrap();

    // What it has works...
    let customer = client
        .create_customer(
            &bankgate_backoffice::NewCustomer {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
            },
            &key(),
        )
        .await
        .unwrap();
    assert_eq!(client.list_accounts(&customer).await, Ok(vec![]));

    // ...and what it lacks is refused by name.
    let unsupported = |capability| {
        Err::<(), _>(BackOfficeError::Unsupported {
            back_office: id(),
            capability,
        })
    };
    assert_eq!(client.rate_board().await.map(|_| ()), unsupported("rates"));
    assert_eq!(
        client.list_cards(&customer).await.map(|_| ()),
        unsupported("cards")
    );
    let vault = bankgate_backoffice::CardToVault {
        pan: "4111111111111111".into(),
        expiry: bankgate_domain::card::Expiry {
            year: 2030,
            month: 1,
        },
        holder_name: "X".into(),
    };
    assert_eq!(
        client.vault_card(&vault, &key()).await.map(|_| ()),
        unsupported("payments")
    );
    assert_eq!(
        client.ledger_report().await.map(|_| ()),
        unsupported("ledger report")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_requests_are_told_apart_from_back_office_errors() {
    let r = Remote::start(Engine::Sqlite).await;
    let alice = r.funded(Currency::USD, 1_000).await;
    let deposits = r.url(&format!("/accounts/{}/deposits", alice.id_bo));
    let body = serde_json::json!({
        "amount": {"minor": 100, "currency": "USD"},
        "narrative": "cash",
        "value_at": serde_json::to_value(crate::common::START).unwrap(),
    });

    // No Idempotency-Key: refused before anything is done.
    let response = r.http.post(&deposits).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"], "bad_request");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));

    // A body that is not the type.
    let response = r
        .http
        .post(&deposits)
        .header("Idempotency-Key", "k1")
        .json(&serde_json::json!({"amount": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"], "bad_request");
    assert_eq!(r.balance(&alice).await, 1_000);

    // The same request, well formed, goes through.
    let response = r
        .http
        .post(&deposits)
        .header("Idempotency-Key", "k1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(r.balance(&alice).await, 1_100);

    // An unknown route and a wrong method answer the error body too.
    let response = r.http.get(r.url("/no/such/route")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"], "bad_request");
    let response = r.http.delete(r.url("/rates")).send().await.unwrap();
    assert_eq!(response.status(), 405);

    // A PIN that is not four digits.
    let response = r
        .http
        .put(r.url("/cards/cd_x/pin"))
        .json(&serde_json::json!({"pin": "12a4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_unreachable_back_office_is_unavailable() {
    // Bind a port, then free it: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = HttpBackOffice::new(id(), &format!("http://{addr}")).unwrap();
    crate::common::assert_unavailable(client.health().await);
    crate::common::assert_unavailable(client.get_account(&BoRef("ac_1".into())).await);
}
