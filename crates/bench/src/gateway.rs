//! How load reaches bankgate: one node, or several behind a client-side balancer. Each call goes to a
//! node picked at random; when that node does not answer at all (refused, reset, cut off: it was killed),
//! the call goes to another node with the same `Idempotency-Key`, as a front end retrying a lost answer
//! would, so a call whose first try did its work is answered with that work, not done twice. A key still
//! claimed by a request that died with its node is waited out (bankgate frees it after
//! `idempotency_abandon_ms`).

use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One answer from bankgate. `status` 0 means no node answered before patience ran out.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The answer replays an earlier one with the same key.
    pub replayed: bool,
}

impl Answer {
    /// The contract's error code, for an error answer.
    pub fn code(&self) -> Option<&str> {
        self.body["code"].as_str()
    }
}

#[derive(Clone)]
pub struct Gateway {
    client: reqwest::Client,
    nodes: Arc<Vec<String>>,
    /// How long one call keeps trying before it gives up.
    patience: Duration,
}

impl Gateway {
    pub fn new(client: reqwest::Client, nodes: Vec<String>, patience: Duration) -> Gateway {
        Gateway {
            client,
            nodes: Arc::new(nodes),
            patience,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, token, None).await
    }

    /// One call; a state-changing one carries a fresh Idempotency-Key, kept across its retries.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Answer {
        let key = (method != Method::GET).then(|| bankgate_domain::ids::random_base36(24));
        let started = Instant::now();
        let mut node = rand::rng().random_range(0..self.nodes.len().max(1));
        let mut last = json!({ "message": "no node was tried" });
        while started.elapsed() < self.patience {
            let Some(base) = self.nodes.get(node) else {
                break;
            };
            let mut request = self
                .client
                .request(method.clone(), format!("{base}{path}"))
                .header("token", token);
            if let Some(key) = &key {
                request = request.header("Idempotency-Key", key);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let replayed = response.headers().contains_key("idempotent-replayed");
                    let body = response.json::<Value>().await.unwrap_or(Value::Null);
                    let answer = Answer {
                        status,
                        body,
                        replayed,
                    };
                    if answer.code() != Some("IDEMPOTENCY_KEY_IN_USE") {
                        return answer;
                    }
                    // The first try is still running, or died with its node: wait until it ends or
                    // its claim is abandoned.
                    last = answer.body;
                }
                Err(e) => {
                    last = json!({ "message": e.to_string() });
                    node = (node + 1) % self.nodes.len();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Answer {
            status: 0,
            body: last,
            replayed: false,
        }
    }
}
