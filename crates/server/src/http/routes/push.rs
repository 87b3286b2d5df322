//! Push channels: `GET /events` (Server-Sent Events) and `GET /socket` (WebSocket) deliver every change
//! to the user's data as it happens (section 25; `services/push.rs` decides what is sent).
//!
//! Each connection first gets `{"type": "ready", "id": n}`: it is live, and `n` is the event it stands
//! after. Then both send the same JSON events (`PushEventWire`). On SSE each is an `event:` named after its `type`
//! with `id:` its event id; a reconnecting client's `Last-Event-ID` header resumes after that event. On
//! WebSocket each is a text frame; the client authenticates with the `token` header or, when it cannot
//! set headers, with a first message `{"token": "...", "lastEventId": 41}`. A client resuming from an
//! event no longer kept first gets `{"type": "resync"}`: it missed changes and reads everything again.
//! Heartbeats (an SSE comment, a WebSocket ping) keep idle connections open; when the session ends
//! (logout, expiry, a barred device) the connection is closed (SSE: an event `closed` and the end of the
//! stream; WebSocket: close code 4401); a stopping node closes with 1001, and the client reconnects. A
//! WebSocket client that answers two heartbeats in a row with nothing, or stops reading for 10 s, is
//! taken for gone (1001). A user may have 16 push connections open on one node; another is refused (429,
//! or WebSocket close code 4429 after a hello). One address may have `push_pending_hellos_per_address`
//! (64) WebSockets waiting for their hello on one node; another handshake is refused (429).

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Authenticated, ClientAddr, TOKEN_HEADER};
use crate::http::wire::message::PushEventWire;
use crate::http::AppState;
use crate::services::auth::Caller;
use crate::services::push::{ConnectionSlot, Slot};
use crate::services::{ServiceError, Services};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc;

/// WebSocket close code for an ended session or a failed hello (4000-4999 are the application's).
const SESSION_ENDED: u16 = 4401;
/// WebSocket close code when the server goes away (stopping, or the feed failed): reconnect.
const GOING_AWAY: u16 = 1001;
/// WebSocket close code when the user already has as many push connections open as one may.
const TOO_MANY: u16 = 4429;
/// Heartbeats a WebSocket client may leave unanswered before it is taken for gone.
const MISSED_PONGS: u8 = 2;
/// How long one frame may take to be handed to a WebSocket client before it is taken for gone.
const SEND_WITHIN: Duration = Duration::from_secs(10);
/// How long a WebSocket client without a `token` header has to send its hello.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// Read and write buffer of one WebSocket (tungstenite's default is 128 KiB each).
const SOCKET_BUFFER: usize = 4 * 1024;
/// The largest message a client may send (its hello is well under).
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Frames waiting for a slow client before its feed waits too.
const QUEUE: usize = 64;

/// What a connection's feed hands to its transport.
enum Frame {
    /// The feed is live after event `0`.
    Ready(i64),
    Event {
        id: i64,
        kind: &'static str,
        json: String,
    },
    Resync,
    Heartbeat,
    /// The session ended: the transport closes after this.
    Closed,
}

/// The user's changes, live, as Server-Sent Events. `Last-Event-ID` resumes after that event.
#[utoipa::path(get, path = "/events", tag = "push",
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream of PushEventWire events", body = PushEventWire),
        (status = 401, body = ErrorBody),
        (status = 429, description = "The user has as many push connections open as one may", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = state.services.open_push_connection(&caller.user_id)?;
    let (frames, receiver) = mpsc::channel(QUEUE);
    tokio::spawn(feed(
        state.services.clone(),
        caller,
        last_event_id(&headers),
        frames,
        slot,
    ));
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await? {
            // With its id, so a client that drops before any change resumes from here.
            Frame::Ready(id) => Event::default()
                .id(id.to_string())
                .event("ready")
                .data(ready_json(id)),
            Frame::Event { id, kind, json } => {
                Event::default().id(id.to_string()).event(kind).data(json)
            }
            Frame::Resync => Event::default()
                .event("resync")
                .data(r#"{"type":"resync"}"#),
            Frame::Heartbeat => Event::default().comment("heartbeat"),
            Frame::Closed => Event::default()
                .event("closed")
                .data(r#"{"type":"closed","reason":"session ended"}"#),
        };
        Some((Ok(event), receiver))
    });
    Ok(Sse::new(stream))
}

/// The user's changes, live, over a WebSocket (see the module's description for the hello).
#[utoipa::path(get, path = "/socket", tag = "push",
    responses((status = 101, description = "WebSocket of PushEventWire text frames", body = PushEventWire),
        (status = 401, body = ErrorBody),
        (status = 429, description = "The user has as many push connections open as one may, or (without a token header) the address as many WebSockets waiting for their hello", body = ErrorBody)))]
pub async fn socket(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let services = state.services.clone();
    // With a token header the session is checked before upgrading: a bad token is a plain 401.
    let caller = match headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) {
        Some(token) => match services.authenticate(token).await {
            Ok(caller) => Some(caller),
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    let Ok(upgrade) = upgrade else {
        // Not a WebSocket handshake: like any call, it needs a token first.
        return match caller {
            None => ApiError::unauthorized().into_response(),
            Some(_) => {
                ApiError::bad_request("WEBSOCKET_EXPECTED", "GET /socket is a WebSocket handshake")
                    .into_response()
            }
        };
    };
    // With a token header the place is taken before upgrading too: too many is a plain 429. Without
    // one, the address holds a place among those waiting for a hello until the hello is read.
    let opening = match caller {
        Some(caller) => {
            services
                .open_push_connection(&caller.user_id)
                .map(|slot| Opening::Authenticated {
                    caller,
                    slot,
                    last_seen: last_event_id(&headers),
                })
        }
        None => services
            .await_push_hello(address)
            .map(Opening::AwaitingHello),
    };
    let opening = match opening {
        Ok(opening) => opening,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Clients only ever send a hello: small buffers keep an idle connection cheap.
    upgrade
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve_socket(services, socket, opening))
}

fn ready_json(id: i64) -> String {
    format!(r#"{{"type":"ready","id":{id}}}"#)
}

fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The first message of a WebSocket client that could not send the `token` header.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Hello {
    token: String,
    last_event_id: Option<i64>,
}

/// A WebSocket as it was upgraded.
enum Opening {
    /// The `token` header named the caller, whose connection place is taken; resume after `last_seen`.
    Authenticated {
        caller: Caller,
        slot: ConnectionSlot,
        last_seen: Option<i64>,
    },
    /// The caller comes in the hello; until it is read, the address holds a place among those waiting.
    AwaitingHello(Slot<IpAddr>),
}

async fn serve_socket(services: Services, mut socket: WebSocket, opening: Opening) {
    let (caller, slot, last_seen) = match opening {
        Opening::Authenticated {
            caller,
            slot,
            last_seen,
        } => (caller, slot, last_seen),
        Opening::AwaitingHello(waiting) => {
            let greeted = hello(&services, &mut socket).await;
            drop(waiting);
            let Some((caller, last_seen)) = greeted else {
                return close(socket, SESSION_ENDED, "unauthenticated").await;
            };
            match services.open_push_connection(&caller.user_id) {
                Ok(slot) => (caller, slot, last_seen),
                Err(_) => return close(socket, TOO_MANY, "too many connections").await,
            }
        }
    };
    let (frames, mut receiver) = mpsc::channel(QUEUE);
    tokio::spawn(feed(services, caller, last_seen, frames, slot));
    // Heartbeats sent since the client last said anything (a pong, usually).
    let mut unanswered = 0u8;
    loop {
        tokio::select! {
            frame = receiver.recv() => {
                let message = match frame {
                    Some(Frame::Ready(id)) => Message::Text(ready_json(id).into()),
                    Some(Frame::Event { json, .. }) => Message::Text(json.into()),
                    Some(Frame::Resync) => Message::Text(r#"{"type":"resync"}"#.into()),
                    Some(Frame::Heartbeat) if unanswered >= MISSED_PONGS => {
                        // The client is gone without closing: free its feed now, not when TCP gives up.
                        return close(socket, GOING_AWAY, "no answer to pings").await;
                    }
                    Some(Frame::Heartbeat) => {
                        unanswered += 1;
                        Message::Ping(Vec::new().into())
                    }
                    Some(Frame::Closed) => return close(socket, SESSION_ENDED, "session ended").await,
                    // The node is stopping, or the feed failed: the client should come back.
                    None => return close(socket, GOING_AWAY, "reconnect").await,
                };
                // A client that stops reading would otherwise hold this connection forever.
                match tokio::time::timeout(SEND_WITHIN, socket.send(message)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => return,
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                // Pongs, and anything else the client says, show it is there; none needs an answer.
                Some(Ok(_)) => unanswered = 0,
            },
        }
    }
}

/// Waits for the hello; the caller it authenticates, and where to resume.
async fn hello(services: &Services, socket: &mut WebSocket) -> Option<(Caller, Option<i64>)> {
    let first = tokio::time::timeout(HELLO_WITHIN, socket.recv())
        .await
        .ok()??
        .ok()?;
    let Message::Text(text) = first else {
        return None;
    };
    let hello: Hello = serde_json::from_str(text.as_str()).ok()?;
    let caller = services.authenticate(&hello.token).await.ok()?;
    Some((caller, hello.last_event_id))
}

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Feeds one connection until its client goes or its session ends; its place is freed then.
async fn feed(
    services: Services,
    caller: Caller,
    last_seen: Option<i64>,
    frames: mpsc::Sender<Frame>,
    _slot: ConnectionSlot,
) {
    if let Err(e) = run_feed(&services, &caller, last_seen, &frames).await {
        tracing::warn!(error = %e, "a push connection ended on an error");
    }
}

async fn run_feed(
    services: &Services,
    caller: &Caller,
    last_seen: Option<i64>,
    frames: &mpsc::Sender<Frame>,
) -> Result<(), ServiceError> {
    let user = &caller.user_id;
    // Subscribed before the first read, so nothing committed after that read goes unannounced.
    let mut announcements = services.store.announcements(user);
    let start = services.push_start(user, last_seen).await?;
    let mut cursor = start.cursor;
    if frames.send(Frame::Ready(cursor)).await.is_err()
        || (start.resync && frames.send(Frame::Resync).await.is_err())
    {
        return Ok(());
    }
    let mut heartbeat = tokio::time::interval(services.settings.push_heartbeat);
    heartbeat.reset();
    let mut read_log = true;
    loop {
        while read_log {
            let batch = services.push_batch(user, cursor).await?;
            cursor = batch.cursor;
            let now = services.clock.now();
            for event in batch.events {
                let (id, kind) = (event.id, event.kind.as_str());
                let wire = PushEventWire::new(event, now, |bo| services.back_office_name(bo));
                let json = serde_json::to_string(&wire)
                    .map_err(|e| ServiceError::Internal(format!("push event: {e}")))?;
                let frame = Frame::Event { id, kind, json };
                if frames.send(frame).await.is_err() {
                    return Ok(());
                }
            }
            if batch.session_changed && !services.push_session_live(caller).await? {
                let _ = frames.send(Frame::Closed).await;
                return Ok(());
            }
            read_log = batch.more;
        }
        tokio::select! {
            () = announcements.next() => read_log = true,
            _ = heartbeat.tick() => {
                // Also a safety net for an announcement lost on the way from another node.
                read_log = true;
                if !services.push_session_live(caller).await? {
                    let _ = frames.send(Frame::Closed).await;
                    return Ok(());
                }
                if frames.send(Frame::Heartbeat).await.is_err() {
                    return Ok(());
                }
            }
            () = frames.closed() => return Ok(()),
            // The node is stopping: the client reconnects, to another node or this one restarted.
            () = services.stopped() => return Ok(()),
        }
    }
}
