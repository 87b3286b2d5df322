//! The operations listener (sandbox card authorizations, metrics, readiness), the API's own documents,
//! and the framework-level failures: oversized and malformed bodies, unknown routes, wrong methods.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_error_body, engines, json, TestApp, ADMIN_TOKEN};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every (method, path template) the public router serves.
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("get", "/ping/heartbeat"),
    ("put", "/token"),
    ("delete", "/token"),
    ("get", "/user"),
    ("post", "/user"),
    ("get", "/devices"),
    ("post", "/authenticateddevices"),
    ("get", "/alerts"),
    ("post", "/alerts"),
    ("post", "/alert/{alertTypeId}"),
    ("get", "/accounts"),
    ("get", "/accounts/{AFiAccountId}"),
    ("post", "/accounts/{AFiAccountId}"),
    ("get", "/accounts/{AFiAccountId}/transactions/latest"),
    (
        "get",
        "/accounts/{AFiAccountId}/transactions/{dateStart}/{dateEnd}",
    ),
    (
        "post",
        "/accounts/{AFiAccountId}/transactions/{transactionId}",
    ),
    ("get", "/cards"),
    ("get", "/cards/{AFiCardId}"),
    ("post", "/cards/{AFiCardId}"),
    ("post", "/cards/{AFiCardId}/activate"),
    ("post", "/card/{AFiCardId}/pin"),
    ("post", "/card/{AFiCardId}/reissue"),
    ("post", "/card/{AFiCardId}/restriction"),
    ("post", "/cards/{AFiCardId}/{onoff}"),
    ("post", "/transfer/acc2acc"),
    ("post", "/transfer/acc2ben/{AFiBeneficiaryId}"),
    ("post", "/remittance/{AFiRemittanceId}"),
    ("post", "/remittance/creditCardPayment"),
    ("get", "/beneficiaries"),
    ("put", "/beneficiaries"),
    ("post", "/beneficiary/{AFiBeneficiaryId}"),
    ("delete", "/beneficiary/{AFiBeneficiaryId}"),
    ("get", "/undo"),
    ("get", "/undo/{id}"),
    ("delete", "/undo/{id}"),
    ("post", "/undo/now"),
    ("post", "/undo/now/{id}"),
    ("get", "/rates"),
    ("get", "/messages"),
    ("put", "/messages"),
    ("get", "/messages/{dtsStart}"),
    ("post", "/message/read/{AFiMessageId}"),
    ("get", "/events"),
    ("get", "/socket"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
];

/// Routes answered without a token.
const OPEN_ROUTES: &[&str] = &["/ping/heartbeat", "/token", "/openapi.json", "/docs"];

fn balance(account: &Value) -> f64 {
    account["balance"]["available"].as_f64().unwrap()
}

#[tokio::test]
async fn sandbox_authorization_follows_the_card_state() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let account_path = format!("/accounts/{}", ids.checking);

        // Approved while the card is on: the money leaves and the purchase is listed first.
        let resp = app
            .authorize(
                &ids.checking_card,
                "12.34",
                "5411",
                json!({ "merchant": "Test Mart" }),
            )
            .await;
        let body = resp.success();
        assert_eq!(body["approved"], true, "{}", resp.text);
        let transaction_id = body["transactionId"].as_str().unwrap().to_owned();
        assert!(body.get("declineReason").is_none());
        let account = app.get(&account_path, app.demo.token()).await;
        assert!(
            account.text.contains("\"available\":987.66"),
            "{}",
            account.text
        );
        assert!(
            account.text.contains("\"native\":987.66"),
            "{}",
            account.text
        );
        let latest = app.latest(&app.demo, &ids.checking).await;
        assert_eq!(latest[0]["transactionId"], json!(transaction_id));
        assert_eq!(latest[0]["narrative"], "Test Mart");
        assert_eq!(latest[0]["amount"].as_f64().unwrap(), -12.34);
        assert_eq!(latest[0]["mcc"], "5411");
        assert_eq!(latest[0]["AFiCardId"], json!(ids.checking_card));
        assert_eq!(latest.len(), 5);
        // A number amount works too.
        let resp = app
            .admin_post(
                "/admin/sandbox/authorize",
                Some(ADMIN_TOKEN),
                &json!({ "AFiCardId": ids.checking_card, "amount": 0.66, "currency": "USD", "mcc": "5411" }),
            )
            .await;
        assert_eq!(resp.success()["approved"], true);

        // Off: declined, nothing moves.
        app.post_empty(
            &format!("/cards/{}/off", ids.checking_card),
            app.demo.token(),
        )
        .await
        .success();
        let declined = app
            .authorize(&ids.checking_card, "1.00", "5411", json!({}))
            .await;
        assert_eq!(
            declined.success(),
            &json!({ "success": true, "approved": false, "declineReason": "card_off" })
        );
        app.post_empty(
            &format!("/cards/{}/on", ids.checking_card),
            app.demo.token(),
        )
        .await
        .success();

        // A restricted MCC is declined, others still pass.
        app.post_json(
            &format!("/card/{}/restriction", ids.checking_card),
            app.demo.token(),
            &json!({ "restrictedMCCs": { "7995": true } }),
        )
        .await
        .success();
        let declined = app
            .authorize(&ids.checking_card, "1.00", "7995", json!({}))
            .await;
        assert_eq!(declined.success()["declineReason"], "mcc_restricted");
        assert_eq!(declined.json["approved"], false);
        assert!(declined.json.get("transactionId").is_none());
        let approved = app
            .authorize(&ids.checking_card, "1.00", "5812", json!({}))
            .await;
        assert_eq!(approved.success()["approved"], true);

        // A blocked day of the week, judged by the merchant's local time.
        app.post_json(
            &format!("/card/{}/restriction", ids.checking_card),
            app.demo.token(),
            &json!({ "dayOfWeek": { "0": false } }),
        )
        .await
        .success();
        let sunday = json!({ "dtsLocal": "2025-01-19T10:00:00-05:00" });
        let declined = app
            .authorize(&ids.checking_card, "1.00", "5411", sunday)
            .await;
        assert_eq!(
            declined.success()["declineReason"],
            "day_of_week_restricted"
        );
        // 23:30 on Saturday in UTC-5 is already Sunday in UTC: the local day counts.
        let saturday_night = json!({ "dtsLocal": "2025-01-18T23:30:00-05:00" });
        let approved = app
            .authorize(&ids.checking_card, "1.00", "5411", saturday_night)
            .await;
        assert_eq!(approved.success()["approved"], true, "{}", approved.text);
        // Now (a Wednesday) is fine.
        let approved = app
            .authorize(&ids.checking_card, "1.00", "5411", json!({}))
            .await;
        assert_eq!(approved.success()["approved"], true);

        // More than is available: declined, balance unchanged.
        let before = balance(&app.get(&account_path, app.demo.token()).await.success()["account"]);
        assert_eq!(before, 1000.0 - 12.34 - 0.66 - 3.0);
        let declined = app
            .authorize(&ids.checking_card, "5000.00", "5411", json!({}))
            .await;
        assert_eq!(declined.success()["declineReason"], "insufficient_funds");
        let exact = format!("{before:.2}");
        let approved = app
            .authorize(&ids.checking_card, &exact, "5411", json!({}))
            .await;
        assert_eq!(approved.success()["approved"], true);
        let after = app.get(&account_path, app.demo.token()).await;
        assert!(after.text.contains("\"available\":0.00"), "{}", after.text);
        let declined = app
            .authorize(&ids.checking_card, "0.01", "5411", json!({}))
            .await;
        assert_eq!(declined.success()["declineReason"], "insufficient_funds");

        // The savings card is not activated yet.
        let declined = app
            .authorize(&ids.savings_card, "1.00", "5411", json!({}))
            .await;
        assert_eq!(declined.success()["declineReason"], "card_not_activated");
        // The wrong currency for the card.
        app.post_empty(
            &format!("/cards/{}/activate", ids.savings_card),
            app.demo.token(),
        )
        .await
        .success();
        let resp = app
            .admin_post(
                "/admin/sandbox/authorize",
                Some(ADMIN_TOKEN),
                &json!({ "AFiCardId": ids.savings_card, "amount": "1.00", "currency": "EUR", "mcc": "5411" }),
            )
            .await;
        assert_eq!(resp.success()["declineReason"], "currency_mismatch");
        app.stop().await;
    }
}

#[tokio::test]
async fn sandbox_authorization_input_and_bearer_errors() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let body = json!({ "AFiCardId": ids.checking_card, "amount": "1.00", "currency": "USD", "mcc": "5411" });
        for bearer in [
            None,
            Some("wrong"),
            Some(""),
            Some("demo-admin-tokenx"),
            Some("DEMO-ADMIN-TOKEN"),
        ] {
            app.admin_post("/admin/sandbox/authorize", bearer, &body)
                .await
                .error(401, "UNAUTHORIZED");
        }
        // The user's token is not an admin token, in either header.
        app.admin_post("/admin/sandbox/authorize", Some(&app.demo.token), &body)
            .await
            .error(401, "UNAUTHORIZED");
        let with_token_header = app
            .send(
                app.client
                    .post(app.admin_url("/admin/sandbox/authorize"))
                    .header("token", &app.demo.token)
                    .json(&body),
            )
            .await;
        with_token_header.error(401, "UNAUTHORIZED");
        // Nothing was authorized by the refused calls.
        assert_eq!(app.latest(&app.demo, &ids.checking).await.len(), 4);

        let with = |patch: Value| {
            let mut b = body.clone();
            b.as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            b
        };
        let cases = [
            (with(json!({ "mcc": "54" })), 400, "INVALID_MCC"),
            (with(json!({ "amount": "-1.00" })), 400, "INVALID_AMOUNT"),
            (with(json!({ "amount": "0" })), 400, "INVALID_AMOUNT"),
            (with(json!({ "amount": "1.001" })), 400, "INVALID_AMOUNT"),
            (with(json!({ "currency": "usd" })), 400, "INVALID_CURRENCY"),
            (with(json!({ "dtsLocal": "Sunday" })), 400, "INVALID_DTS"),
            (
                with(json!({ "AFiCardId": "qwecdunknown0000" })),
                404,
                "CARD_NOT_FOUND",
            ),
            (
                json!({ "AFiCardId": ids.checking_card }),
                400,
                "INVALID_JSON",
            ),
        ];
        for (body, status, code) in cases {
            app.admin_post("/admin/sandbox/authorize", Some(ADMIN_TOKEN), &body)
                .await
                .error(status, code);
        }
        // Unknown admin routes answer the error body too.
        let resp = app.admin_get("/admin/nothing").await;
        resp.error(404, "NO_SUCH_ROUTE");
        app.stop().await;
    }
}

#[tokio::test]
async fn metrics_and_readiness_need_no_token() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        app.get(&format!("/cards/{}", ids.checking_card), app.demo.token())
            .await
            .success();
        app.get(&format!("/card/{}", ids.savings_card), app.demo.token())
            .await
            .success();
        app.get("/cards/qwecdunknown0000", app.demo.token())
            .await
            .error(404, "CARD_NOT_FOUND");
        app.get("/no/such/route", None)
            .await
            .error(404, "NO_SUCH_ROUTE");

        let ready = app.admin_get("/ready").await;
        let body = ready.success();
        let offices = body["backOffices"].as_array().unwrap();
        let names: BTreeSet<&str> = offices.iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert_eq!(names, BTreeSet::from(["sandbox-a", "sandbox-b"]));
        assert!(
            offices
                .iter()
                .all(|o| o["healthy"] == true && o["error"].is_null() && o["circuit"] == "closed"),
            "{}",
            ready.text
        );

        let metrics = app.admin_get("/metrics").await;
        assert_eq!(metrics.status, 200);
        assert!(metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"));
        let text = &metrics.text;
        // Requests are counted under their route template, aliases included, never the raw path.
        let line = |needle: &str| -> f64 {
            let line = text
                .lines()
                .find(|l| l.starts_with("bankgate_http_requests_total{") && l.contains(needle))
                .unwrap_or_else(|| panic!("no request line with {needle} in:\n{text}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert_eq!(
            line(r#"method="GET",route="/cards/{AFiCardId}",status="200""#),
            2.0
        );
        assert_eq!(
            line(r#"method="GET",route="/cards/{AFiCardId}",status="404""#),
            1.0
        );
        assert_eq!(line(r#"method="PUT",route="/token",status="200""#), 2.0);
        assert!(line(r#"route="/accounts",status="200""#) >= 1.0);
        assert_eq!(line(r#"route="unmatched",status="404""#), 1.0);
        assert!(!text.contains(&ids.checking_card), "a raw id in a label");
        assert!(!text.contains("/no/such/route"));
        assert!(text.contains("bankgate_http_request_duration_seconds_bucket{"));
        // Back-office calls by back office, operation and outcome, and readiness.
        assert!(
            text.contains(r#"bankgate_backoffice_calls_total{back_office="sandbox-a",operation="cards.get",outcome="ok"}"#),
            "{text}"
        );
        assert!(text.contains(r#"operation="cards.list""#));
        assert!(text.contains("bankgate_backoffice_call_duration_seconds_bucket{"));
        assert!(
            text.contains(r#"bankgate_backoffice_up{back_office="sandbox-a"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"bankgate_backoffice_up{back_office="sandbox-b"} 1"#),
            "{text}"
        );
        app.stop().await;
    }
}

/// The (method, path) pairs of an OpenAPI document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                pairs.insert((method.clone(), path.clone()));
            }
        }
    }
    pairs
}

#[tokio::test]
async fn openapi_and_docs_list_every_route() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let resp = app.get("/openapi.json", None).await;
        assert_eq!(resp.status, 200);
        assert!(resp
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let doc = &resp.json;
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        let expected: BTreeSet<(String, String)> = PUBLIC_ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(documented(doc), expected);
        // The document the binary prints is the one served.
        assert_eq!(
            documented(&serde_json::to_value(bankgate::http::openapi()).unwrap()),
            expected
        );
        // Every path parameter is declared on its operations.
        for (method, path) in PUBLIC_ROUTES {
            let declared: BTreeSet<&str> = doc["paths"][path][method]["parameters"]
                .as_array()
                .map(|params| {
                    params
                        .iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            assert_eq!(declared, in_template, "{method} {path}");
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert!(doc["components"]["securitySchemes"]["token"].is_object());

        // And the router really serves each of them: no fallback 404, no 405; without a token, each
        // protected route is a 401.
        for (method, template) in PUBLIC_ROUTES {
            let path = template
                .replace("{AFiAccountId}", "qweacunknown0000")
                .replace("{AFiCardId}", "qwecdunknown0000")
                .replace("{transactionId}", "qwetrunknown0000")
                .replace("{dateStart}", "2025-01-01")
                .replace("{dateEnd}", "2025-01-31")
                .replace("{onoff}", "on");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app.request(method.clone(), &path, None, None).await;
            if OPEN_ROUTES.contains(template) {
                assert_ne!(
                    resp.json["code"], "NO_SUCH_ROUTE",
                    "{method} {path}: {}",
                    resp.text
                );
                assert!(
                    resp.status != 404 && resp.status != 405,
                    "{method} {path}: {}",
                    resp.status
                );
            } else {
                assert_eq!(resp.status, 401, "{method} {path}: {}", resp.text);
                resp.error(401, "UNAUTHORIZED");
            }
        }

        let docs = app.get("/docs", None).await;
        assert_eq!(docs.status, 200);
        assert!(docs
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        assert!(docs.text.starts_with("<!doctype html>"));
        for (method, path) in PUBLIC_ROUTES {
            assert!(
                docs.text.contains(&format!("<code>{path}</code>")),
                "{path} missing from /docs"
            );
            assert!(docs.text.contains(&format!(">{method}</span>")), "{method}");
        }
        assert!(docs.text.contains("ErrorBody"));
        app.stop().await;
    }
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_the_error_body() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        // Just over 64 KiB of otherwise valid JSON.
        let big = json!({ "firstName": "x".repeat(64 * 1024) }).to_string();
        assert!(big.len() > 64 * 1024);
        app.post_raw("/user", app.demo.token(), big.clone())
            .await
            .error(413, "BODY_TOO_LARGE");
        app.send(
            app.client
                .put(app.url("/token"))
                .header("content-type", "application/json")
                .body(big.clone()),
        )
        .await
        .error(413, "BODY_TOO_LARGE");
        let big_array = format!(
            "[{}]",
            vec!["{\"AFiLinkLinkId\":\"qwedvunknown0000\"}"; 2000].join(",")
        );
        assert!(big_array.len() > 64 * 1024);
        app.post_raw("/authenticateddevices", app.demo.token(), big_array)
            .await
            .error(413, "BODY_TOO_LARGE");
        // Just under the limit is fine.
        let fits = json!({ "languageCode": "en", "pad": "x".repeat(60 * 1024) });
        app.post_json("/user", app.demo.token(), &fits)
            .await
            .success();
        // The refused body changed nothing.
        let user = app.get("/user", app.demo.token()).await;
        assert_eq!(user.success()["user"]["firstName"], "Dana");

        for malformed in ["{", "{\"firstName\": }", "nul", "{\"a\":1}}", "\u{0}"] {
            app.post_raw("/user", app.demo.token(), malformed)
                .await
                .error(400, "INVALID_JSON");
        }
        // The wrong JSON type for the whole body.
        app.post_json("/user", app.demo.token(), &json!([1, 2]))
            .await
            .error(400, "INVALID_JSON");
        app.post_raw(
            &format!("/cards/{}/pin", "qwecdunknown0000"),
            app.demo.token(),
            "{pin:1}",
        )
        .await
        .error(400, "INVALID_JSON");
        app.stop().await;
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_get_the_error_body() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        for path in [
            "/",
            "/nothing",
            "/accounts/a/b/c/d/e",
            "/transfer/elsewhere",
            "/user/extra",
        ] {
            app.get(path, app.demo.token())
                .await
                .error(404, "NO_SUCH_ROUTE");
            app.get(path, None).await.error(404, "NO_SUCH_ROUTE");
        }
        // Ids that do not even decode (invalid UTF-8 once percent-decoded).
        for path in [
            "/accounts/%FF",
            "/account/%FF/transactions/latest",
            "/cards/%C3%28",
        ] {
            app.get(path, app.demo.token())
                .await
                .error(400, "INVALID_PATH");
        }
        app.post_empty("/cards/%C3%28/on", app.demo.token())
            .await
            .error(400, "INVALID_PATH");
        app.get("/accounts/a%2Fb", app.demo.token())
            .await
            .error(404, "ACCOUNT_NOT_FOUND");
        // A known path with a method it does not take.
        for (method, path) in [
            (reqwest::Method::DELETE, "/accounts"),
            (reqwest::Method::PUT, "/user"),
            (reqwest::Method::GET, "/authenticateddevices"),
            (reqwest::Method::POST, "/ping/heartbeat"),
            (reqwest::Method::GET, "/card/qwecdunknown0000/pin"),
        ] {
            let resp = app
                .request(method.clone(), path, app.demo.token(), None)
                .await;
            assert_eq!(resp.status, 405, "{method} {path}: {}", resp.text);
            assert_error_body(&resp);
            assert_eq!(resp.json["code"], "METHOD_NOT_ALLOWED");
            assert!(
                resp.header("allow").is_some(),
                "{method} {path}: no Allow header"
            );
        }
        // The admin listener too.
        let resp = app.admin_get("/admin/sandbox/authorize").await;
        resp.error(405, "METHOD_NOT_ALLOWED");
        let resp = app.admin_post("/metrics", None, &json!({})).await;
        resp.error(405, "METHOD_NOT_ALLOWED");
        app.stop().await;
    }
}
