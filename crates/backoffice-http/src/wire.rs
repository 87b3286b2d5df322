//! The few bodies the back-office API adds to the types of `bankgate-backoffice`: wrappers for calls
//! whose argument or answer is not one of those types, the restriction update (whose fields tell
//! "absent" from `null`), and the ledger report.

use bankgate_backoffice::BackOfficeError;
use bankgate_domain::card::ReissueReason;
use bankgate_domain::ids::BoRef;
use bankgate_domain::restrictions::{FlagMap, Patch, RestrictionUpdate};
use bankgate_domain::Currency;
use bankgate_sandbox::{AccountMismatch, LedgerReport};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The header that carries an idempotency key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The reference of an object the call created (a customer, a vaulted card).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedRef {
    pub id_bo: BoRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RenameAccount {
    pub name: String,
}

/// The card's on/off switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CardSwitch {
    pub enabled: bool,
}

/// A new PIN: four digits.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewPin {
    #[schema(example = "1234", pattern = "^[0-9]{4}$")]
    pub pin: String,
}

impl std::fmt::Debug for NewPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPin(****)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reissue {
    pub reason: ReissueReason,
}

/// A change to a card's restrictions. Each list is left as it is when absent, cleared when `null`, and
/// replaced when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionPatch {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<BTreeMap<String, bool>>)]
    pub day_of_week: Option<Option<FlagMap>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<BTreeMap<String, bool>>)]
    pub times_of_day: Option<Option<FlagMap>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<BTreeMap<String, bool>>)]
    pub allowed_mccs: Option<Option<FlagMap>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<BTreeMap<String, bool>>)]
    pub restricted_mccs: Option<Option<FlagMap>>,
}

/// A field that is present, whether `null` or a value (absence is the `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<FlagMap>>, D::Error> {
    Option::<FlagMap>::deserialize(d).map(Some)
}

fn to_patch(field: Option<Option<FlagMap>>) -> Patch<FlagMap> {
    match field {
        None => Patch::Keep,
        Some(None) => Patch::Clear,
        Some(Some(flags)) => Patch::Set(flags),
    }
}

fn from_patch(patch: &Patch<FlagMap>) -> Option<Option<FlagMap>> {
    match patch {
        Patch::Keep => None,
        Patch::Clear => Some(None),
        Patch::Set(flags) => Some(Some(flags.clone())),
    }
}

impl From<&RestrictionUpdate> for RestrictionPatch {
    fn from(update: &RestrictionUpdate) -> Self {
        RestrictionPatch {
            day_of_week: from_patch(&update.day_of_week),
            times_of_day: from_patch(&update.times_of_day),
            allowed_mccs: from_patch(&update.allowed_mccs),
            restricted_mccs: from_patch(&update.restricted_mccs),
        }
    }
}

impl From<RestrictionPatch> for RestrictionUpdate {
    fn from(patch: RestrictionPatch) -> Self {
        RestrictionUpdate {
            day_of_week: to_patch(patch.day_of_week),
            times_of_day: to_patch(patch.times_of_day),
            allowed_mccs: to_patch(patch.allowed_mccs),
            restricted_mccs: to_patch(patch.restricted_mccs),
        }
    }
}

/// The answer of the health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(example = "sandbox-a")]
    pub back_office: String,
    #[schema(example = "up")]
    pub status: String,
}

/// The ledger's self-check (see `bankgate_sandbox::LedgerReport`): a healthy ledger has every currency
/// total at zero and both lists empty, and then `clean` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerReportBody {
    pub clean: bool,
    /// The sum of every posting in minor units, per currency.
    pub currency_totals: BTreeMap<String, i64>,
    /// Entries whose postings do not sum to zero in some currency.
    pub unbalanced_entries: Vec<String>,
    /// Customer accounts whose stored balances differ from their postings.
    pub mismatched_accounts: Vec<AccountMismatchBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountMismatchBody {
    pub account: BoRef,
    pub ledger_minor: i64,
    pub available_minor: i64,
    pub postings_minor: i64,
}

impl From<&LedgerReport> for LedgerReportBody {
    fn from(report: &LedgerReport) -> Self {
        LedgerReportBody {
            clean: report.is_clean(),
            currency_totals: report
                .currency_totals
                .iter()
                .map(|(currency, total)| (currency.to_string(), *total))
                .collect(),
            unbalanced_entries: report.unbalanced_entries.clone(),
            mismatched_accounts: report
                .mismatched_accounts
                .iter()
                .map(|m| AccountMismatchBody {
                    account: m.account.clone(),
                    ledger_minor: m.ledger_minor,
                    available_minor: m.available_minor,
                    postings_minor: m.postings_minor,
                })
                .collect(),
        }
    }
}

impl TryFrom<LedgerReportBody> for LedgerReport {
    type Error = BackOfficeError;

    fn try_from(body: LedgerReportBody) -> Result<Self, Self::Error> {
        let currency_totals = body
            .currency_totals
            .into_iter()
            .map(|(code, total)| {
                Currency::parse(&code)
                    .map(|currency| (currency, total))
                    .map_err(|e| BackOfficeError::Internal(format!("ledger report: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(LedgerReport {
            currency_totals,
            unbalanced_entries: body.unbalanced_entries,
            mismatched_accounts: body
                .mismatched_accounts
                .into_iter()
                .map(|m| AccountMismatch {
                    account: m.account,
                    ledger_minor: m.ledger_minor,
                    available_minor: m.available_minor,
                    postings_minor: m.postings_minor,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_patches_tell_absent_from_null() {
        let patch: RestrictionPatch =
            serde_json::from_str(r#"{"day_of_week": {"0": false}, "allowed_mccs": null}"#).unwrap();
        let update = RestrictionUpdate::from(patch.clone());
        assert_eq!(
            update.day_of_week,
            Patch::Set(FlagMap::from([("0".to_owned(), false)]))
        );
        assert_eq!(update.allowed_mccs, Patch::Clear);
        assert_eq!(update.times_of_day, Patch::Keep);
        assert_eq!(update.restricted_mccs, Patch::Keep);
        // And back: what the client writes is what the server reads.
        let written = serde_json::to_string(&RestrictionPatch::from(&update)).unwrap();
        assert_eq!(
            written,
            r#"{"day_of_week":{"0":false},"allowed_mccs":null}"#
        );
        assert_eq!(
            serde_json::from_str::<RestrictionPatch>(&written).unwrap(),
            patch
        );
        assert!(serde_json::from_str::<RestrictionPatch>(r#"{"dayOfWeek": {}}"#).is_err());
    }
}
