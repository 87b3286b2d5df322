//! The cards module: listing and reading cards, and every change a cardholder can make (nickname,
//! activation, PIN, reissue, restrictions, on/off), each carried out by the back office that issued the
//! card and recorded as it comes back. While that back office is unavailable, cards are read from the
//! store (stand-in).

use super::card_switch::Switched;
use super::stand_in::Freshness;
use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{BackOffice, BackOfficeError, BoCard};
use bankgate_domain::card::{Pin, PinError, ReissueReason};
use bankgate_domain::ids::{AccountId, BoRef, CardId, UserId};
use bankgate_domain::restrictions::RestrictionUpdate;
use bankgate_store::{BackOfficeLink, StoredCard};
use futures::future::try_join_all;
use std::future::Future;
use std::sync::Arc;

/// Editable card fields, kept by bankgate.
#[derive(Debug, Clone, Default)]
pub struct CardChanges {
    pub name: bankgate_domain::patch::Patch<String>,
    pub is_main: Option<bool>,
}

/// A card as a read answers it.
#[derive(Debug, Clone)]
pub struct CardView {
    pub stored: StoredCard,
    pub freshness: Freshness,
}

/// A card a back office just returned (after a change) is confirmed.
impl From<StoredCard> for CardView {
    fn from(stored: StoredCard) -> Self {
        CardView {
            stored,
            freshness: Freshness::Confirmed,
        }
    }
}

impl Services {
    pub async fn list_cards(&self, user: &UserId) -> Result<Vec<CardView>> {
        let links = self.links(user).await?;
        let per_office = try_join_all(links.iter().map(|link| async move {
            let fresh = self.refresh_cards(user, link).await;
            self.or_stand_in(fresh, || async {
                let mut stored = self.store.list_cards(user).await?;
                stored.retain(|c| c.back_office_id == link.back_office_id);
                Ok(stored)
            })
            .await
        }))
        .await?;
        Ok(per_office
            .into_iter()
            .flat_map(|(cards, freshness)| {
                cards
                    .into_iter()
                    .map(move |stored| CardView { stored, freshness })
            })
            .collect())
    }

    pub(super) async fn refresh_cards(
        &self,
        user: &UserId,
        link: &BackOfficeLink,
    ) -> Result<Vec<StoredCard>> {
        let customer = &link.customer_id_bo;
        let cards = self
            .read_back_office(
                &link.back_office_id,
                "cards.list",
                Entity::Card,
                |bo| async move { bo.require_cards()?.list_cards(customer).await },
            )
            .await?;
        let mut with_accounts = Vec::with_capacity(cards.len());
        for card in cards {
            let account = self.account_of(user, link, &card.account_id_bo).await?;
            with_accounts.push((card, account));
        }
        self.record_cards(user, &link.back_office_id, &with_accounts)
            .await
    }

    /// bankgate's id for a card's account, learning the back office's accounts first if it is new.
    pub(super) async fn account_of(
        &self,
        user: &UserId,
        link: &BackOfficeLink,
        account_ref: &BoRef,
    ) -> Result<AccountId> {
        if let Some(id) = self
            .store
            .account_id_for(&link.back_office_id, account_ref)
            .await?
        {
            return Ok(id);
        }
        self.refresh_accounts(user, link)
            .await?
            .into_iter()
            .find(|a| &a.account.id_bo == account_ref)
            .map(|a| a.id)
            .ok_or_else(|| {
                ServiceError::Internal(format!(
                    "card account {account_ref} not among the customer's accounts"
                ))
            })
    }

    pub async fn get_card(&self, user: &UserId, id: &CardId) -> Result<CardView> {
        let fresh = self
            .change_card(user, id, "cards.get", |bo, card| async move {
                bo.require_cards()?.get_card(&card).await
            })
            .await;
        let (stored, freshness) = self
            .or_stand_in(fresh, || self.stored_card(user, id))
            .await?;
        Ok(CardView { stored, freshness })
    }

    /// Changes what bankgate keeps about the card; works in stand-in too, answering the stored copy.
    pub async fn modify_card(
        &self,
        user: &UserId,
        id: &CardId,
        changes: CardChanges,
    ) -> Result<CardView> {
        let stored = self.stored_card(user, id).await?;
        let mut prefs = stored.prefs.clone();
        if let bankgate_domain::patch::Patch::Set(name) = &changes.name {
            if name.trim().is_empty() || name.chars().count() > 64 {
                return Err(ServiceError::invalid(
                    "INVALID_NAME",
                    "name must be 1 to 64 characters",
                ));
            }
        }
        changes.name.apply(&mut prefs.name);
        prefs.is_main = changes.is_main.unwrap_or(prefs.is_main);
        self.store
            .set_card_prefs(user, id, &prefs, self.clock.now())
            .await?;
        self.get_card(user, id).await
    }

    pub async fn activate_card(&self, user: &UserId, id: &CardId) -> Result<StoredCard> {
        self.change_card(user, id, "cards.activate", |bo, card| async move {
            bo.require_cards()?.activate_card(&card).await
        })
        .await
    }

    /// Turns a card on or off; `switch` is the path's `:onoff`. While the card's back office is
    /// unavailable the switch is queued (see `card_switch`).
    pub async fn switch_card(&self, user: &UserId, id: &CardId, switch: &str) -> Result<Switched> {
        let enabled = match switch {
            "on" => true,
            "off" => false,
            _ => return Err(ServiceError::BadOnOff),
        };
        let stored = self.stored_card(user, id).await?;
        let answer = self
            .change_card(user, id, "cards.set_enabled", |bo, card| async move {
                bo.require_cards()?.set_card_enabled(&card, enabled).await
            })
            .await;
        match answer {
            Ok(card) => Ok(Switched::Done(card)),
            Err(ServiceError::BackOfficeUnavailable) => {
                self.queue_card_switch(user, stored, enabled).await
            }
            Err(e) => Err(e),
        }
    }

    /// Sets the PIN carried in the contract's 8-character envelope. Only the 4 PIN digits go to the back
    /// office; nothing of it is kept here.
    pub async fn set_card_pin(&self, user: &UserId, id: &CardId, envelope: &str) -> Result<()> {
        let pin = Pin::from_envelope(envelope).map_err(|e| match e {
            PinError::WrongLength => ServiceError::PinWrongLength,
            PinError::NotDigits => ServiceError::PinNotDigits,
        })?;
        let stored = self.stored_card(user, id).await?;
        let card_ref = &stored.card.id_bo;
        self.call_back_office(
            &stored.back_office_id,
            "cards.set_pin",
            Entity::Card,
            |bo| async move { bo.require_cards()?.set_pin(card_ref, &pin).await },
        )
        .await
    }

    pub async fn reissue_card(
        &self,
        user: &UserId,
        id: &CardId,
        reason: ReissueReason,
    ) -> Result<StoredCard> {
        self.change_card(user, id, "cards.reissue", |bo, card| async move {
            bo.require_cards()?.reissue_card(&card, reason).await
        })
        .await
    }

    pub async fn restrict_card(
        &self,
        user: &UserId,
        id: &CardId,
        update: RestrictionUpdate,
    ) -> Result<StoredCard> {
        update
            .validate()
            .map_err(|e| ServiceError::RestrictionRefused(e.to_string()))?;
        let result = self
            .change_card(user, id, "cards.restrict", |bo, card| async move {
                bo.require_cards()?
                    .update_restrictions(&card, &update)
                    .await
            })
            .await;
        result.map_err(|e| match e {
            ServiceError::BackOfficeRefused { message } => {
                ServiceError::RestrictionRefused(message)
            }
            other => other,
        })
    }

    async fn stored_card(&self, user: &UserId, id: &CardId) -> Result<StoredCard> {
        self.store
            .get_card(user, id)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Card))
    }

    /// Runs `call` on the back office holding the user's card `id` and records the card it returns.
    async fn change_card<F, Fut>(
        &self,
        user: &UserId,
        id: &CardId,
        operation: &'static str,
        call: F,
    ) -> Result<StoredCard>
    where
        F: FnOnce(Arc<dyn BackOffice>, BoRef) -> Fut,
        Fut: Future<Output = std::result::Result<BoCard, BackOfficeError>>,
    {
        let stored = self.stored_card(user, id).await?;
        let card_ref = stored.card.id_bo.clone();
        let card = self
            .call_back_office(&stored.back_office_id, operation, Entity::Card, |bo| {
                call(bo, card_ref)
            })
            .await?;
        let recorded = self
            .record_cards(
                user,
                &stored.back_office_id,
                &[(card, stored.account_id.clone())],
            )
            .await?;
        recorded
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound(Entity::Card))
    }
}
