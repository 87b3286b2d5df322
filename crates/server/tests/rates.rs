//! `GET /rates`: the quotes of every back office the user holds products at (sandbox-a and sandbox-b,
//! each quoting USD->EUR and EUR->USD), the back offices themselves and the routes between them, and the
//! token it needs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, json, TestApp};
use serde_json::Value;
use time::Duration;

/// A quote as `GET /rates` shows it; `rate` is what one `src` buys when moving money from `src` to `dst`.
fn rate(office: &str, name: &Value, (src, dst): (&str, &str), buy: f64, sell: f64) -> Value {
    json!({
        "rateId": format!("{office}{src}{dst}"), "src": src, "dst": dst, "rate": buy, "buy": buy,
        "sell": sell, "isCommon": false, "backOfficeId": office, "backOfficeName": name,
        "dtsRefreshed": "2025-01-15T12:00:30.000Z"
    })
}

#[tokio::test]
async fn rates_list_every_back_office_its_quotes_and_the_routes_between_them() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        app.clock.advance(Duration::seconds(30));
        let resp = app.get("/rates", demo.token()).await;
        let body = resp.success().clone();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 6, "{body}");
        assert_eq!(body["dtsRefreshed"], "2025-01-15T12:00:30.000Z");
        assert_eq!(body["baseCurrency"], "USD");

        // Back-office names are configuration; read them from the answer, then check everything else.
        let offices = body["backOffices"].as_array().unwrap();
        let name_of = |id: &str| -> Value {
            offices
                .iter()
                .find(|o| o["id"] == id)
                .unwrap_or_else(|| panic!("{id} missing from {offices:?}"))["name"]
                .clone()
        };
        let mut ids: Vec<&str> = offices.iter().map(|o| o["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["sandbox-a", "sandbox-b"]);
        for office in offices {
            assert_eq!(office["baseCurrency"], "USD", "{office}");
            assert!(!office["name"].as_str().unwrap().is_empty(), "{office}");
        }

        let mut expected = Vec::new();
        for office in ["sandbox-a", "sandbox-b"] {
            let name = name_of(office);
            expected.push(rate(office, &name, ("USD", "EUR"), 0.92, 0.94));
            expected.push(rate(office, &name, ("EUR", "USD"), 1.06, 1.08));
        }
        let mut rates = body["rates"].as_array().unwrap().clone();
        rates.sort_by_key(|r| r["rateId"].as_str().unwrap().to_owned());
        expected.sort_by_key(|r| r["rateId"].as_str().unwrap().to_owned());
        assert_eq!(rates, expected);

        let mut routes = body["backOfficeRoutes"].as_array().unwrap().clone();
        routes.sort_by_key(|r| r["sourceBackOfficeId"].as_str().unwrap().to_owned());
        let route = |from: &str, to: &str| {
            json!({ "sourceBackOfficeId": from, "destinationBackOfficeId": to, "AFiCommissionRate": 0.0,
                    "settlementCurrency": "USD", "baseCurrency": "USD" })
        };
        assert_eq!(
            routes,
            vec![
                route("sandbox-a", "sandbox-b"),
                route("sandbox-b", "sandbox-a")
            ]
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn rates_need_a_token() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.get("/rates", None).await.error(401, "UNAUTHORIZED");
        app.get("/rates", Some("not-a-token"))
            .await
            .error(401, "UNAUTHORIZED");
        // A logged-out token no longer works either.
        let session = app.login_ok("demo", "demo-password").await;
        app.get("/rates", session.token()).await.success();
        app.delete("/token", session.token()).await.success();
        app.get("/rates", session.token())
            .await
            .error(401, "UNAUTHORIZED");
        app.stop().await;
    }
}
