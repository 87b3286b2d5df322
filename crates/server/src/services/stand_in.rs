//! Stand-in: what bankgate does while a back office is unavailable (unreachable, timing out, its circuit
//! open, or in maintenance). Reads of its objects are answered from the store's copy, marked
//! [`Freshness::StandIn`] so the wire can say `isStale` and when the copy was last confirmed; writes that
//! can wait are queued (see the movement and card services); the rest are refused as unavailable.

use super::{Result, ServiceError, Services};
use bankgate_domain::ids::{AccountId, UserId};
use bankgate_domain::{Currency, Money};
use bankgate_store::StoredAccount;
use std::future::Future;

/// Like a card network's stand-in limits, these bound what bankgate accepts for a back office it cannot
/// ask: the source's balance is then the last one the back office confirmed, less everything held.
/// Whole units of the source account's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandInLimits {
    /// The most one operation may move.
    pub per_operation: u32,
    /// The most one user may have accepted in stand-in and not yet executed, per currency.
    pub per_user: u32,
}

impl Default for StandInLimits {
    fn default() -> Self {
        StandInLimits {
            per_operation: 500,
            per_user: 1_000,
        }
    }
}

impl StandInLimits {
    pub fn per_operation_in(&self, currency: Currency) -> Money {
        whole_units(self.per_operation, currency)
    }

    pub fn per_user_in(&self, currency: Currency) -> Money {
        whole_units(self.per_user, currency)
    }
}

fn whole_units(units: u32, currency: Currency) -> Money {
    let minor = i64::from(units).saturating_mul(10_i64.pow(u32::from(currency.exponent())));
    Money::new(minor, currency)
}

/// Whether an object in an answer was confirmed by its back office just now, or is the store's copy
/// served while that back office is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Freshness {
    #[default]
    Confirmed,
    StandIn,
}

impl Freshness {
    pub fn is_stale(self) -> bool {
        self == Freshness::StandIn
    }
}

/// True when any of the freshness values is stand-in: the answer as a whole is `standIn`.
pub fn any_stand_in(values: impl IntoIterator<Item = Freshness>) -> bool {
    values.into_iter().any(Freshness::is_stale)
}

impl Services {
    /// A read's answer: `fresh` when its back office gave one, else, when the back office is
    /// unavailable, what `from_store` finds. Any other failure (not found, refused) stands.
    pub(crate) async fn or_stand_in<T, F, Fut>(
        &self,
        fresh: Result<T>,
        from_store: F,
    ) -> Result<(T, Freshness)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match fresh {
            Ok(value) => Ok((value, Freshness::Confirmed)),
            Err(ServiceError::BackOfficeUnavailable) => {
                Ok((from_store().await?, Freshness::StandIn))
            }
            Err(other) => Err(other),
        }
    }
}

impl Services {
    /// The source of a movement accepted in stand-in: its last confirmed copy, to judge the hold by,
    /// and the user's stand-in limit in its currency. Refuses a debit over the per-operation limit.
    pub(super) async fn stand_in_source(
        &self,
        user: &UserId,
        account: &AccountId,
        debit: Money,
    ) -> Result<(StoredAccount, Money)> {
        let limits = self.settings.stand_in;
        let per_operation = limits.per_operation_in(debit.currency);
        if debit.minor > per_operation.minor {
            return Err(over_limit(per_operation, "at once"));
        }
        let stored = self.stored_account(user, account).await?;
        Ok((stored, limits.per_user_in(debit.currency)))
    }

    /// The refusal of a movement that would take the user's stand-in exposure over its limit.
    pub(super) fn over_stand_in_limit_per_user(&self, currency: Currency) -> ServiceError {
        over_limit(
            self.settings.stand_in.per_user_in(currency),
            "queued in all",
        )
    }
}

fn over_limit(limit: Money, what: &str) -> ServiceError {
    ServiceError::conflict(
        "STAND_IN_LIMIT",
        format!(
            "the account's bank is unavailable; until it answers, at most {} {} can be moved {what}",
            limit.to_decimal_string(),
            limit.currency
        ),
    )
}
