//! Messages between a user and support (section 13): the user's conversation, sending to support, marking
//! read, and support's replies (from the operations side). Every change is pushed (see `push.rs`).

use super::{Entity, Result, ServiceError, Services};
use bankgate_domain::ids::{MessageId, UserId};
use bankgate_store::{MessageDetails, MessageRecord, NewMessage};
use time::OffsetDateTime;

/// Support's id in messages, as the contract names it.
pub const SUPPORT: &str = "AmpliFi Support";
/// The most messages one list returns (the latest ones, or the first after a time).
pub const MAX_LISTED: u32 = 200;
/// The longest message text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The longest dedup code accepted.
pub const MAX_DEDUP_CHARS: usize = 128;

/// A message support sends to a user.
#[derive(Debug, Clone, Default)]
pub struct SupportMessage {
    pub text: String,
    pub details: MessageDetails,
    pub dedup_code: Option<String>,
}

impl Services {
    /// The user's messages, to and from support, oldest first: the latest ones, or the first ones after
    /// `since` when given.
    pub async fn messages(
        &self,
        user: &UserId,
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<MessageRecord>> {
        Ok(self.store.messages(user, since, MAX_LISTED).await?)
    }

    /// Sends the user's message to support. A repeat with the same `dedup_code` is the first message.
    pub async fn send_to_support(
        &self,
        user: &UserId,
        text: &str,
        dedup_code: Option<&str>,
    ) -> Result<MessageRecord> {
        let text = checked_text(text)?;
        let dedup = dedup_code_or_new(dedup_code)?;
        let message = NewMessage {
            id: MessageId::generate(),
            user,
            from: user.as_str(),
            to: SUPPORT,
            text,
            details: &MessageDetails::default(),
            dedup_code: &dedup,
            at: self.clock.now(),
        };
        Ok(self.store.add_message(&message).await?.0)
    }

    /// Support's message to the user. A repeat with the same dedup code is the first message.
    pub async fn send_from_support(
        &self,
        user: &UserId,
        reply: &SupportMessage,
    ) -> Result<MessageRecord> {
        if self.store.get_user(user).await?.is_none() {
            return Err(ServiceError::NotFound(Entity::User));
        }
        let text = checked_text(&reply.text)?;
        let dedup = dedup_code_or_new(reply.dedup_code.as_deref())?;
        let message = NewMessage {
            id: MessageId::generate(),
            user,
            from: SUPPORT,
            to: user.as_str(),
            text,
            details: &reply.details,
            dedup_code: &dedup,
            at: self.clock.now(),
        };
        Ok(self.store.add_message(&message).await?.0)
    }

    /// Marks one of the user's messages read.
    pub async fn mark_message_read(&self, user: &UserId, id: &str) -> Result<MessageRecord> {
        self.store
            .mark_message_read(user, id.trim(), self.clock.now())
            .await?
            .ok_or(ServiceError::NotFound(Entity::Message))
    }
}

fn checked_text(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ServiceError::invalid(
            "INVALID_MESSAGE",
            "text must not be empty",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ServiceError::invalid(
            "INVALID_MESSAGE",
            format!("text must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(text)
}

/// The client's dedup code, checked, or a fresh random one.
fn dedup_code_or_new(code: Option<&str>) -> Result<String> {
    match code.map(str::trim) {
        None | Some("") => Ok(bankgate_domain::ids::random_base36(24)),
        Some(code) if code.chars().count() <= MAX_DEDUP_CHARS => Ok(code.to_owned()),
        Some(_) => Err(ServiceError::invalid(
            "INVALID_DEDUP_CODE",
            format!("dedupCode must be at most {MAX_DEDUP_CHARS} characters"),
        )),
    }
}
