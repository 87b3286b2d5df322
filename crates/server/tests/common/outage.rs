//! Taking a back office out of service for the stand-in suites, through the operations listener.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::{json, Resp, TestApp, ADMIN_TOKEN};

impl TestApp {
    /// Puts back office `id` in maintenance (`true`) or takes it out (`false`); must succeed.
    pub async fn maintenance(&self, id: &str, on: bool) {
        let resp = self.set_maintenance(id, on, Some(ADMIN_TOKEN)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
    }

    /// `PUT /admin/back-offices/{id}/maintenance` as sent, with `bearer` when given.
    pub async fn set_maintenance(&self, id: &str, on: bool, bearer: Option<&str>) -> Resp {
        let mut request = self
            .client
            .put(self.admin_url(&format!("/admin/back-offices/{id}/maintenance")))
            .json(&json!({ "maintenance": on }));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        self.send(request).await
    }
}
