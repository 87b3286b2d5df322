//! What the services remember between requests on this node: live sessions, each user's back-office
//! links, and which cards each user has. Each is read on nearly every request and changes rarely; writes
//! on this node refresh them at once, writes elsewhere are seen within [`MEMO_TTL`].

use bankgate_domain::ids::{AccountId, BackOfficeId, BoRef, CardId, DeviceId, UserId};
use bankgate_store::memo::Memo;
use bankgate_store::{BackOfficeLink, SessionRecord};
use std::sync::Arc;
use std::time::Duration;

/// How long a remembered value is trusted without asking the store again.
pub const MEMO_TTL: Duration = Duration::from_secs(2);
const CAPACITY: usize = 100_000;

/// Enough about one card to link it to its account and to its transactions.
#[derive(Debug, Clone)]
pub struct CardLink {
    pub id: CardId,
    pub account_id: AccountId,
    pub back_office_id: BackOfficeId,
    pub card_id_bo: BoRef,
}

pub struct Memos {
    pub sessions: Memo<String, SessionRecord>,
    pub links: Memo<UserId, Arc<Vec<BackOfficeLink>>>,
    pub cards: Memo<UserId, Arc<Vec<CardLink>>>,
}

impl Default for Memos {
    fn default() -> Self {
        Memos {
            sessions: Memo::new(MEMO_TTL, CAPACITY),
            links: Memo::new(MEMO_TTL, CAPACITY),
            cards: Memo::new(MEMO_TTL, CAPACITY),
        }
    }
}

impl Memos {
    /// Forgets every session of a device (it was barred).
    pub fn forget_device_sessions(&self, device: &DeviceId) {
        self.sessions
            .retain(|_, session| &session.device_id != device);
    }
}
