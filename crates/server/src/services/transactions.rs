//! Account transactions: asked of the back office that holds the account, recorded in the store as they
//! pass through, with the user's comments and labels and the bankgate operation behind each line added.
//! While a back office is unavailable its transactions are served from the store, marked stand-in.

use super::movements::plan::{payload_of, MovementPlan};
use super::stand_in::Freshness;
use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{BoTransaction, TransactionQuery};
use bankgate_domain::ids::{AccountId, BoRef, CardId, OperationId, TransactionId, UserId};
use bankgate_store::{StoredAccount, StoredTransaction, TransactionAnnotations};
use std::collections::HashMap;
use time::{Date, Duration, OffsetDateTime};

/// `transactions/latest` returns at most this many...
const LATEST_LIMIT: u32 = 30;
/// ...and nothing older than this.
const LATEST_MAX_AGE: Duration = Duration::days(365);
/// The most transactions recorded at once when following a back office's changes.
const SINCE_LIMIT: u32 = 1_000;
const MAX_LABELS: usize = 50;
const MAX_LABEL_LEN: usize = 64;
const MAX_COMMENT_LEN: usize = 1000;

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

/// Editable transaction fields: the user's comment and labels.
#[derive(Debug, Clone, Default)]
pub struct TransactionChanges {
    pub comment: bankgate_domain::patch::Patch<String>,
    pub labels: Option<Vec<String>>,
}

impl Services {
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
        let fresh = self.fetch_transactions(user, &stored, query).await;
        let (recorded, freshness) = self
            .or_stand_in(fresh, || self.stored_transactions(user, id, &query))
            .await?;
        self.transaction_views(user, recorded, freshness).await
    }

    /// Asks the account's back office for the transactions `query` names and records them.
    async fn fetch_transactions(
        &self,
        user: &UserId,
        account: &StoredAccount,
        query: TransactionQuery,
    ) -> Result<Vec<StoredTransaction>> {
        let account_ref = &account.account.id_bo;
        let fetched: Vec<BoTransaction> = self
            .read_back_office(
                &account.back_office_id,
                "accounts.transactions",
                Entity::Account,
                |bo| async move {
                    bo.require_accounts()?
                        .list_transactions(account_ref, &query)
                        .await
                },
            )
            .await?;
        let now = self.clock.now();
        Ok(self
            .store
            .record_transactions(user, &account.id, &account.back_office_id, &fetched, now)
            .await?)
    }

    /// Records the account's latest transactions as its back office reports them (what
    /// `transactions/latest` would answer), without answering anything.
    pub(super) async fn record_latest_transactions(
        &self,
        user: &UserId,
        account: &StoredAccount,
    ) -> Result<()> {
        let query = TransactionQuery::Latest {
            limit: LATEST_LIMIT,
            since: self.clock.now() - LATEST_MAX_AGE,
        };
        self.fetch_transactions(user, account, query).await?;
        Ok(())
    }

    /// Records the account's transactions valued at or after `since` as its back office reports them
    /// (up to [`SINCE_LIMIT`] of the newest), without answering anything.
    pub(super) async fn record_transactions_since(
        &self,
        user: &UserId,
        account: &StoredAccount,
        since: OffsetDateTime,
    ) -> Result<()> {
        let query = TransactionQuery::Latest {
            limit: SINCE_LIMIT,
            since,
        };
        self.fetch_transactions(user, account, query).await?;
        Ok(())
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
            .set_transaction_annotations(user, id, &annotations, self.clock.now())
            .await?;
        stored.annotations = annotations;
        self.transaction_views(user, vec![stored], Freshness::Confirmed)
            .await?
            .pop()
            .ok_or(ServiceError::NotFound(Entity::Transaction))
    }

    pub(super) async fn transaction_views(
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
