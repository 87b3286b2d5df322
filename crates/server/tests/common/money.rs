//! Helpers of the money-movement suites: balances as the wire writes them, the undo queue, and
//! beneficiaries.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::{json, Session, TestApp};
use serde_json::Value;

/// A (native, available) balance pair as [`TestApp::balance`] returns it.
pub fn pair(native: &str, available: &str) -> (String, String) {
    (native.to_owned(), available.to_owned())
}

/// A US ACH beneficiary's body with every required field.
pub fn ach_beneficiary() -> Value {
    json!({
        "txnType": "USA", "bankName": "First Bank", "destinationName": "Jane Roe", "type": "CHECKING",
        "routingNumber": "011000015", "accountNumber": "123456789"
    })
}

/// The id of a beneficiary object.
pub fn beneficiary_id(beneficiary: &Value) -> String {
    beneficiary["AFiBeneficiaryId"].as_str().unwrap().to_owned()
}

impl TestApp {
    /// `POST /transfer/acc2acc`, which must be accepted; returns the answer.
    pub async fn transfer(
        &self,
        who: &Session,
        from: &str,
        to: &str,
        amount: &str,
        currency: &str,
    ) -> Value {
        let body = json!({ "srcAcc": from, "dstAcc": to, "amount": amount, "currency": currency });
        let resp = self
            .post_json("/transfer/acc2acc", who.token(), &body)
            .await;
        resp.success().clone()
    }

    /// `POST /transfer/acc2ben/{beneficiary}` in USD from `from`.
    pub async fn pay_now(
        &self,
        who: &Session,
        from: &str,
        beneficiary: &str,
        amount: &str,
    ) -> super::Resp {
        let body = json!({ "sourceAccountId": from, "amount": amount, "currency": "USD" });
        let path = format!("/transfer/acc2ben/{beneficiary}");
        self.post_json(&path, who.token(), &body).await
    }

    /// Adds a beneficiary, which must succeed; returns the beneficiary object.
    pub async fn add_beneficiary(&self, who: &Session, body: &Value) -> Value {
        let resp = self.put_json("/beneficiaries", who.token(), body).await;
        super::assert_no_full_pan(&resp.text);
        resp.success()["beneficiary"].clone()
    }

    /// Polls `GET /undo/{id}` until the entry is in one of `states` (10 s at most).
    pub async fn wait_for_undo(&self, who: &Session, undo_id: &str, states: &[&str]) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let resp = self.get(&format!("/undo/{undo_id}"), who.token()).await;
            let undo = resp.success()["undo"].clone();
            if states.iter().any(|s| undo["state"] == *s) {
                return undo;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "undo {undo_id} never reached {states:?}: {undo}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// One account of the user as `GET /accounts/{id}` shows it.
    pub async fn account(&self, who: &Session, id: &str) -> Value {
        let resp = self.get(&format!("/accounts/{id}"), who.token()).await;
        resp.success()["account"].clone()
    }

    /// An account's (native, available) balance as decimal strings, exactly as written on the wire.
    pub async fn balance(&self, who: &Session, id: &str) -> (String, String) {
        #[derive(serde::Deserialize)]
        struct Raw<'a> {
            #[serde(borrow)]
            account: RawAccount<'a>,
        }
        #[derive(serde::Deserialize)]
        struct RawAccount<'a> {
            #[serde(borrow)]
            balance: RawBalance<'a>,
        }
        #[derive(serde::Deserialize)]
        struct RawBalance<'a> {
            #[serde(borrow)]
            native: &'a serde_json::value::RawValue,
            #[serde(borrow)]
            available: &'a serde_json::value::RawValue,
        }
        let resp = self.get(&format!("/accounts/{id}"), who.token()).await;
        resp.success();
        let raw: Raw = serde_json::from_str(&resp.text).unwrap();
        let balance = raw.account.balance;
        (
            balance.native.get().to_owned(),
            balance.available.get().to_owned(),
        )
    }
}
