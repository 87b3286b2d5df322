//! Messages (section 13) and push events on the wire.

use super::account::AccountWire;
use super::alert::AlertWire;
use super::beneficiary::BeneficiaryWire;
use super::card::CardWire;
use super::common::dts;
use super::movement::UndoWire;
use super::transaction::TransactionWire;
use super::user::UserWire;
use crate::services::push::{PushEvent, PushObject};
use bankgate_domain::ids::BackOfficeId;
use bankgate_store::{EventKind, MessageRecord};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// One message between the user and support (`"AmpliFi Support"`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageWire {
    #[serde(rename = "AFiMessageId")]
    pub afi_message_id: String,
    #[serde(rename = "toAFiUserId")]
    pub to_afi_user_id: String,
    #[serde(rename = "fromAFiUserId")]
    pub from_afi_user_id: String,
    pub text: String,
    pub title: Option<String>,
    pub href: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    /// Not used by bankgate: always null.
    #[schema(value_type = Option<Object>)]
    pub extra_data: Option<serde_json::Value>,
    pub message_priority_code: Option<String>,
    pub dts_created: String,
    /// Stored messages are delivered.
    pub is_delivered: bool,
    pub is_read: bool,
    /// The same code again is the same message.
    pub dedup_code: String,
}

impl From<&MessageRecord> for MessageWire {
    fn from(m: &MessageRecord) -> Self {
        MessageWire {
            afi_message_id: m.id.to_string(),
            to_afi_user_id: m.to.clone(),
            from_afi_user_id: m.from.clone(),
            text: m.text.clone(),
            title: m.details.title.clone(),
            href: m.details.href.clone(),
            category: m.details.category.clone(),
            severity: m.details.severity.clone(),
            extra_data: None,
            message_priority_code: m.details.priority_code.clone(),
            dts_created: dts(m.created_at),
            is_delivered: true,
            is_read: m.read_at.is_some(),
            dedup_code: m.dedup_code.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagesResponse {
    pub success: bool,
    /// Oldest first.
    pub messages: Vec<MessageWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub success: bool,
    pub message: MessageWire,
}

/// `PUT /messages`: a message to support.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageBody {
    pub text: String,
    /// Optional: sending again with the same code answers with the first message and adds none.
    pub dedup_code: Option<String>,
}

/// One push event: `id` increases with every event of the user; `type` names what changed (`accounts`,
/// `card` (one card changed), `cards` (a card was issued), `transactions`, `beneficiaries`, `user`,
/// `messages`, `alerts`, `undo`); the changed object comes as it now stands, in the shape and under the
/// name the contract's own answers use.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushEventWire {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub dts_created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<UndoWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<AccountWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cards: Option<Vec<CardWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TransactionWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiaries: Option<Vec<BeneficiaryWire>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<AlertWire>>,
}

impl PushEventWire {
    /// `back_office_name` names a back office as front ends show it.
    pub fn new(
        event: PushEvent,
        now: OffsetDateTime,
        back_office_name: impl Fn(&BackOfficeId) -> String,
    ) -> Self {
        let mut wire = PushEventWire {
            id: event.id,
            kind: event.kind.as_str(),
            dts_created: dts(event.at),
            ..PushEventWire::default()
        };
        match event.object {
            PushObject::Undo(job) => wire.undo = Some(UndoWire::new(&job, now)),
            PushObject::Message(message) => wire.messages = Some(vec![(&message).into()]),
            PushObject::Account(view) => {
                let name = back_office_name(&view.stored.back_office_id);
                wire.accounts = Some(vec![AccountWire::new(*view, name)]);
            }
            PushObject::Card(card) => {
                let name = back_office_name(&card.back_office_id);
                let card = CardWire::new(*card, name);
                match event.kind {
                    EventKind::Card => wire.card = Some(card),
                    _ => wire.cards = Some(vec![card]),
                }
            }
            PushObject::Transaction(view) => {
                wire.transactions = Some(vec![TransactionWire::from(*view)]);
            }
            PushObject::Beneficiary(view) => {
                wire.beneficiaries = Some(vec![BeneficiaryWire::from(*view)]);
            }
            PushObject::User(view) => wire.user = Some(UserWire::from(*view)),
            PushObject::Alert(setting) => wire.alerts = Some(vec![(&setting).into()]),
        }
        wire
    }
}
