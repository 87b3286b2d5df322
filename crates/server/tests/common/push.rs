//! Push clients for the push suites: a Server-Sent Events reader over a real HTTP connection, a
//! WebSocket client, and support's messages through the operations listener.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::{json, Resp, TestApp, ADMIN_TOKEN};
use serde_json::Value;
use std::time::Duration;

/// How long a test waits for an expected event.
pub const WAIT: Duration = Duration::from_secs(10);

/// One server-sent event: its `id:` (if any), `event:` name and parsed `data:`.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<i64>,
    pub name: String,
    pub data: Value,
}

/// An open `GET /events` stream.
pub struct SseStream {
    response: reqwest::Response,
    buffer: String,
}

impl SseStream {
    /// The next event (heartbeat comments are skipped); None when the stream ended.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_block(&block) {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.response.chunk())
                .await
                .expect("no event in time")
                .expect("reading the stream")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event, which must exist.
    pub async fn expect(&mut self) -> SseEvent {
        self.next().await.expect("the stream ended")
    }

    /// The next event of `kind` whose data passes `wanted`, skipping any other.
    pub async fn expect_where(&mut self, kind: &str, wanted: impl Fn(&Value) -> bool) -> SseEvent {
        loop {
            let event = self.expect_one_of(&[kind]).await;
            if wanted(&event.data) {
                return event;
            }
        }
    }

    /// The next event of one of `kinds`, skipping others (changes the back offices' own feeds bring in
    /// arrive whenever bankgate follows them).
    pub async fn expect_one_of(&mut self, kinds: &[&str]) -> SseEvent {
        loop {
            let event = self.expect().await;
            if kinds.contains(&event.name.as_str()) {
                return event;
            }
        }
    }
}

fn parse_block(block: &str) -> Option<SseEvent> {
    let (mut id, mut name, mut data) = (None, String::from("message"), String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            name = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    if data.is_empty() {
        return None;
    }
    Some(SseEvent {
        id,
        name,
        data: serde_json::from_str(&data).expect("event data is JSON"),
    })
}

pub type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// Opens `GET /events` with `token` (and `Last-Event-ID` when given) and reads its `ready` event.
    pub async fn events(&self, token: &str, last_event_id: Option<i64>) -> SseStream {
        let mut request = self.client.get(self.url("/events")).header("token", token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let mut stream = SseStream {
            response,
            buffer: String::new(),
        };
        let ready = stream.expect().await;
        assert_eq!(ready.name, "ready", "{ready:?}");
        stream
    }

    /// Opens `GET /socket` without headers, as a browser would.
    pub async fn socket(&self) -> WebSocket {
        let url = format!("{}/socket", self.base.replacen("http://", "ws://", 1));
        tokio_tungstenite::connect_async(url).await.unwrap().0
    }

    /// Support's message to the user, through the operations listener.
    pub async fn support_message(&self, user_id: &str, body: &Value) -> Resp {
        let request = self
            .client
            .put(self.admin_url(&format!("/admin/users/{user_id}/messages")))
            .bearer_auth(ADMIN_TOKEN)
            .json(body);
        self.send(request).await
    }

    /// Sends a message to support as `token`; its `AFiMessageId`.
    pub async fn message_support(&self, token: &str, text: &str) -> String {
        let resp = self
            .put_json("/messages", Some(token), &json!({ "text": text }))
            .await;
        resp.success()["message"]["AFiMessageId"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The next text frame of a WebSocket as JSON (pings are answered by the client library).
/// The next JSON frame of `kind` (by its `type`), skipping other events.
pub async fn next_json_of(socket: &mut WebSocket, kind: &str) -> Value {
    loop {
        let frame = next_json(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

pub async fn next_json(socket: &mut WebSocket) -> Value {
    use futures::StreamExt;
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("no frame in time")
            .expect("the socket ended")
            .expect("reading the socket");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}
