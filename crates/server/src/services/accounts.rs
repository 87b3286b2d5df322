//! Accounts: asked of the back office that holds them, recorded in the store as they pass through, with
//! bankgate's own preferences and the money its accepted operations hold added. While a back office is
//! unavailable its accounts are served from the store, marked stand-in.

use super::stand_in::Freshness;
use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::BoAccount;
use bankgate_domain::ids::{AccountId, CardId, UserId};
use bankgate_store::{BackOfficeLink, StoredAccount};
use futures::future::try_join_all;

#[derive(Debug, Clone)]
pub struct AccountView {
    pub stored: StoredAccount,
    /// A card linked to the account, if it has one.
    pub card_id: Option<CardId>,
    /// Money kept by accepted operations that have not yet executed; not yet known to the back office.
    pub on_hold: Option<bankgate_domain::Money>,
    pub freshness: Freshness,
}

impl AccountView {
    /// What can be spent now: the back office's available balance less bankgate's holds.
    pub fn available(&self) -> bankgate_domain::Money {
        let available = self.stored.account.available;
        match self.on_hold {
            Some(held) if held.currency == available.currency => bankgate_domain::Money::new(
                available.minor.saturating_sub(held.minor),
                available.currency,
            ),
            _ => available,
        }
    }
}

/// Editable account fields; `name` is kept by the back office, the flags by bankgate.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub is_main: Option<bool>,
    pub is_hidden: Option<bool>,
}

impl Services {
    pub async fn list_accounts(&self, user: &UserId) -> Result<Vec<AccountView>> {
        let links = self.links(user).await?;
        let per_office =
            try_join_all(links.iter().map(|link| self.accounts_at(user, link))).await?;
        let accounts = per_office
            .into_iter()
            .flat_map(|(accounts, freshness)| accounts.into_iter().map(move |a| (a, freshness)))
            .collect();
        self.account_views(user, accounts).await
    }

    /// The user's accounts at one back office: fresh, or the stored copies while it is unavailable.
    async fn accounts_at(
        &self,
        user: &UserId,
        link: &BackOfficeLink,
    ) -> Result<(Vec<StoredAccount>, Freshness)> {
        let fresh = self.refresh_accounts(user, link).await;
        self.or_stand_in(fresh, || async {
            let mut stored = self.store.list_accounts(user).await?;
            stored.retain(|a| a.back_office_id == link.back_office_id);
            Ok(stored)
        })
        .await
    }

    /// Asks one back office for the user's accounts there and records them.
    pub(super) async fn refresh_accounts(
        &self,
        user: &UserId,
        link: &BackOfficeLink,
    ) -> Result<Vec<StoredAccount>> {
        let customer = &link.customer_id_bo;
        let accounts = self
            .read_back_office(
                &link.back_office_id,
                "accounts.list",
                Entity::Account,
                |bo| async move { bo.require_accounts()?.list_accounts(customer).await },
            )
            .await?;
        Ok(self
            .store
            .record_accounts(user, &link.back_office_id, &accounts, self.clock.now())
            .await?)
    }

    pub async fn get_account(&self, user: &UserId, id: &AccountId) -> Result<AccountView> {
        let stored = self.stored_account(user, id).await?;
        let fresh = match self.fetch_account(&stored).await {
            Ok(fresh) => Ok(self
                .store
                .record_accounts(user, &stored.back_office_id, &[fresh], self.clock.now())
                .await?),
            Err(e) => Err(e),
        };
        let (recorded, freshness) = self
            .or_stand_in(fresh, || async { Ok(vec![stored]) })
            .await?;
        let accounts = recorded.into_iter().map(|a| (a, freshness)).collect();
        self.account_views(user, accounts)
            .await?
            .pop()
            .ok_or(ServiceError::NotFound(Entity::Account))
    }

    pub async fn modify_account(
        &self,
        user: &UserId,
        id: &AccountId,
        changes: AccountChanges,
    ) -> Result<AccountView> {
        let stored = self.stored_account(user, id).await?;
        if let Some(name) = changes.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(ServiceError::invalid(
                    "INVALID_NAME",
                    "name must be 1 to 64 characters",
                ));
            }
            let account_ref = &stored.account.id_bo;
            self.call_back_office(
                &stored.back_office_id,
                "accounts.rename",
                Entity::Account,
                |bo| async move {
                    bo.require_accounts()?
                        .rename_account(account_ref, &name)
                        .await
                },
            )
            .await?;
        }
        if changes.is_main.is_some() || changes.is_hidden.is_some() {
            let mut prefs = stored.prefs.clone();
            prefs.is_main = changes.is_main.unwrap_or(prefs.is_main);
            prefs.is_hidden = changes.is_hidden.unwrap_or(prefs.is_hidden);
            self.store
                .set_account_prefs(user, id, &prefs, self.clock.now())
                .await?;
        }
        self.get_account(user, id).await
    }

    pub(super) async fn stored_account(
        &self,
        user: &UserId,
        id: &AccountId,
    ) -> Result<StoredAccount> {
        self.store
            .get_account(user, id)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Account))
    }

    async fn fetch_account(&self, stored: &StoredAccount) -> Result<BoAccount> {
        let account_ref = &stored.account.id_bo;
        self.read_back_office(
            &stored.back_office_id,
            "accounts.get",
            Entity::Account,
            |bo| async move { bo.require_accounts()?.get_account(account_ref).await },
        )
        .await
    }

    pub(super) async fn account_views(
        &self,
        user: &UserId,
        accounts: Vec<(StoredAccount, Freshness)>,
    ) -> Result<Vec<AccountView>> {
        let cards = self.card_links(user).await?;
        let held = self.store.held_amounts(user).await?;
        Ok(accounts
            .into_iter()
            .map(|(stored, freshness)| {
                let card_id = cards
                    .iter()
                    .find(|c| c.account_id == stored.id)
                    .map(|c| c.id.clone());
                let on_hold = held.get(&stored.id).copied();
                AccountView {
                    stored,
                    card_id,
                    on_hold,
                    freshness,
                }
            })
            .collect())
    }
}
