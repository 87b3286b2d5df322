//! Accounts and their transactions: asked of the back office that holds them, recorded in the store as
//! they pass through, with bankgate's own preferences and annotations added. While a back office is
//! unavailable its accounts and transactions are served from the store, marked stand-in.

use super::movements::plan::{payload_of, MovementPlan};
use super::stand_in::Freshness;
use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{BoAccount, BoTransaction, TransactionQuery};
use bankgate_domain::ids::{AccountId, BoRef, CardId, OperationId, TransactionId, UserId};
use bankgate_store::{BackOfficeLink, StoredAccount, StoredTransaction, TransactionAnnotations};
use futures::future::try_join_all;
use std::collections::HashMap;
use time::{Date, Duration};

/// `transactions/latest` returns at most this many...
const LATEST_LIMIT: u32 = 30;
/// ...and nothing older than this.
const LATEST_MAX_AGE: Duration = Duration::days(365);
const MAX_LABELS: usize = 50;
const MAX_LABEL_LEN: usize = 64;
const MAX_COMMENT_LEN: usize = 1000;

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

#[derive(Debug, Clone)]
pub struct TransactionView {
    pub stored: StoredTransaction,
    pub card_id: Option<CardId>,
    /// The bankgate operation that made this line, when bankgate made it.
    pub movement: Option<MovementLink>,
    pub freshness: Freshness,
}

/// Both ends of the operation behind a statement line.
#[derive(Debug, Clone)]
pub struct MovementLink {
    pub source_account_id: AccountId,
    pub destination_account_id: Option<AccountId>,
    pub beneficiary_id: Option<bankgate_domain::ids::BeneficiaryId>,
}

/// Editable account fields; `name` is kept by the back office, the flags by bankgate.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub is_main: Option<bool>,
    pub is_hidden: Option<bool>,
}

/// Editable transaction fields: the user's comment and labels.
#[derive(Debug, Clone, Default)]
pub struct TransactionChanges {
    pub comment: bankgate_domain::patch::Patch<String>,
    pub labels: Option<Vec<String>>,
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
            self.store.set_account_prefs(user, id, &prefs).await?;
        }
        self.get_account(user, id).await
    }

    pub async fn latest_transactions(
        &self,
        user: &UserId,
        id: &AccountId,
    ) -> Result<Vec<TransactionView>> {
        let since = self.clock.now() - LATEST_MAX_AGE;
        self.transactions(
            user,
            id,
            TransactionQuery::Latest {
                limit: LATEST_LIMIT,
                since,
            },
        )
        .await
    }

    pub async fn transactions_between(
        &self,
        user: &UserId,
        id: &AccountId,
        from: Date,
        to: Date,
    ) -> Result<Vec<TransactionView>> {
        if from > to {
            return Err(ServiceError::invalid(
                "INVALID_DATE_RANGE",
                "dateStart must not be after dateEnd",
            ));
        }
        self.transactions(user, id, TransactionQuery::Range { from, to })
            .await
    }

    async fn transactions(
        &self,
        user: &UserId,
        id: &AccountId,
        query: TransactionQuery,
    ) -> Result<Vec<TransactionView>> {
        let stored = self.stored_account(user, id).await?;
        let account_ref = &stored.account.id_bo;
        let fetched: Result<Vec<BoTransaction>> = self
            .read_back_office(
                &stored.back_office_id,
                "accounts.transactions",
                Entity::Account,
                |bo| async move {
                    bo.require_accounts()?
                        .list_transactions(account_ref, &query)
                        .await
                },
            )
            .await;
        let fresh = match fetched {
            Ok(fetched) => {
                let now = self.clock.now();
                Ok(self
                    .store
                    .record_transactions(user, id, &stored.back_office_id, &fetched, now)
                    .await?)
            }
            Err(e) => Err(e),
        };
        let (recorded, freshness) = self
            .or_stand_in(fresh, || self.stored_transactions(user, id, &query))
            .await?;
        self.transaction_views(user, recorded, freshness).await
    }

    /// The transactions the store has for `query`, as the back office would have answered it.
    async fn stored_transactions(
        &self,
        user: &UserId,
        id: &AccountId,
        query: &TransactionQuery,
    ) -> Result<Vec<StoredTransaction>> {
        let (from, to, limit) = match *query {
            TransactionQuery::Latest { limit, since } => {
                (since, self.clock.now(), i64::from(limit))
            }
            TransactionQuery::Range { from, to } => (
                from.midnight().assume_utc(),
                // The last millisecond of `to`: both days count.
                to.with_time(time::macros::time!(23:59:59.999)).assume_utc(),
                i64::MAX,
            ),
        };
        Ok(self
            .store
            .list_stored_transactions(user, id, from, to, limit)
            .await?)
    }

    pub async fn modify_transaction(
        &self,
        user: &UserId,
        account: &AccountId,
        id: &TransactionId,
        changes: TransactionChanges,
    ) -> Result<TransactionView> {
        let mut stored = self
            .store
            .get_transaction(user, account, id)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Transaction))?;
        let annotations = annotate(stored.annotations.clone(), changes)?;
        self.store
            .set_transaction_annotations(user, id, &annotations)
            .await?;
        stored.annotations = annotations;
        self.transaction_views(user, vec![stored], Freshness::Confirmed)
            .await?
            .pop()
            .ok_or(ServiceError::NotFound(Entity::Transaction))
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

    async fn account_views(
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

    async fn transaction_views(
        &self,
        user: &UserId,
        transactions: Vec<StoredTransaction>,
        freshness: Freshness,
    ) -> Result<Vec<TransactionView>> {
        let cards = self.card_links(user).await?;
        let by_ref: HashMap<(&str, &BoRef), &CardId> = cards
            .iter()
            .map(|c| ((c.back_office_id.as_str(), &c.card_id_bo), &c.id))
            .collect();
        let movements = self.movement_links(user, &transactions).await?;
        Ok(transactions
            .into_iter()
            .map(|stored| {
                let key = stored
                    .transaction
                    .card_id_bo
                    .as_ref()
                    .map(|r| (stored.back_office_id.as_str(), r));
                let card_id = key.and_then(|k| by_ref.get(&k)).map(|id| (*id).clone());
                let movement = movements.get(&stored.transaction.reference).cloned();
                TransactionView {
                    stored,
                    card_id,
                    movement,
                    freshness,
                }
            })
            .collect())
    }

    /// The operations behind the lines that bankgate made, by reference.
    async fn movement_links(
        &self,
        user: &UserId,
        transactions: &[StoredTransaction],
    ) -> Result<HashMap<String, MovementLink>> {
        let mut ids: Vec<OperationId> = transactions
            .iter()
            .map(|t| t.transaction.reference.as_str())
            .filter(|r| {
                r.strip_prefix(bankgate_domain::ids::ID_PREFIX)
                    .is_some_and(|rest| rest.starts_with(OperationId::TAG))
            })
            .filter_map(OperationId::parse)
            .collect();
        ids.sort();
        ids.dedup();
        let jobs = self.store.user_jobs_by_ids(user, &ids).await?;
        Ok(jobs
            .into_iter()
            .filter_map(|job| {
                let plan: MovementPlan = payload_of(&job).ok()?;
                let link = MovementLink {
                    destination_account_id: plan
                        .destination_account()
                        .map(|a| a.account_id.clone()),
                    beneficiary_id: plan.beneficiary().cloned(),
                    source_account_id: plan.source.account_id,
                };
                Some((job.id.into_string(), link))
            })
            .collect())
    }
}

fn annotate(
    mut annotations: TransactionAnnotations,
    changes: TransactionChanges,
) -> Result<TransactionAnnotations> {
    if let bankgate_domain::patch::Patch::Set(comment) = &changes.comment {
        if comment.chars().count() > MAX_COMMENT_LEN {
            return Err(ServiceError::invalid(
                "INVALID_COMMENT",
                format!("comment is limited to {MAX_COMMENT_LEN} characters"),
            ));
        }
    }
    changes.comment.apply(&mut annotations.comment);
    if let Some(labels) = changes.labels {
        if labels.len() > MAX_LABELS
            || labels
                .iter()
                .any(|l| l.is_empty() || l.chars().count() > MAX_LABEL_LEN)
        {
            return Err(ServiceError::invalid(
                "INVALID_LABELS",
                format!("at most {MAX_LABELS} labels of 1 to {MAX_LABEL_LEN} characters"),
            ));
        }
        annotations.labels = labels;
    }
    Ok(annotations)
}
