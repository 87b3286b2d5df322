//! Beneficiaries: the user's payment destinations, kept by bankgate (validated per rail by the domain's
//! `Destination::parse`), and turned into a back office's `Payee` when a payment leaves. A card
//! destination's number is never kept: it goes to the vault of each of the user's back offices that pays
//! out, and bankgate keeps only the masked number and the vault references. Deleting one is queued for
//! its undo window; until then it stays payable.

use super::{Entity, Result, ServiceError, Services};
use bankgate_domain::beneficiary::{Destination, DestinationFields};
use bankgate_domain::ids::{BeneficiaryId, OperationId, UserId};
use bankgate_domain::patch::Patch;
use bankgate_domain::{Currency, Money};
use bankgate_store::{
    BeneficiaryRecord, Enqueued, JobKind, JobOutcome, JobRecord, NewBeneficiaryRecord, NewJob,
};
use serde::Serialize;

mod data;
mod destination;

pub use data::{
    BeneficiaryData, BeneficiarySettings, BeneficiaryView, CardOnFile, KeptDestination,
    NewBeneficiary, SettingsChanges,
};
use destination::{fields_of, overlay};

const MAX_NAME_CHARS: usize = 64;

impl Services {
    pub async fn list_beneficiaries(&self, user: &UserId) -> Result<Vec<BeneficiaryView>> {
        self.store
            .list_beneficiaries(user)
            .await?
            .into_iter()
            .map(view)
            .collect()
    }

    pub async fn beneficiary_record(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
    ) -> Result<BeneficiaryView> {
        let record = self
            .store
            .get_beneficiary(user, id)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Beneficiary))?;
        view(record)
    }

    pub async fn add_beneficiary(
        &self,
        user: &UserId,
        new: NewBeneficiary,
    ) -> Result<BeneficiaryView> {
        let today = self.clock.now().date();
        let destination =
            Destination::parse(new.rail, &new.fields, today).map_err(invalid_field)?;
        let id = BeneficiaryId::generate();
        let destination = self.keep(user, &id, destination).await?;
        let mut settings = BeneficiarySettings {
            name: String::new(),
            default_amount: None,
            default_source_account_id: None,
            status: "active".to_owned(),
            is_active: true,
            is_favourite: false,
            is_hidden: false,
        };
        let default_name = default_name(&destination);
        self.apply_settings(user, &mut settings, new.settings)
            .await?;
        if settings.name.is_empty() {
            settings.name = default_name;
        }
        let data = BeneficiaryData {
            rail: new.rail,
            destination,
            settings,
        };
        let record = self
            .store
            .create_beneficiary(&NewBeneficiaryRecord {
                id,
                user_id: user.clone(),
                data: to_json(&data)?,
                at: self.clock.now(),
            })
            .await?;
        Ok(BeneficiaryView { record, data })
    }

    /// Applies settings changes and, when any destination field is sent, re-validates the destination
    /// with those fields over the kept ones.
    pub async fn modify_beneficiary(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
        settings: SettingsChanges,
        fields: DestinationFields,
    ) -> Result<BeneficiaryView> {
        let mut current = self.beneficiary_record(user, id).await?;
        let mut data = current.data.clone();
        if fields != DestinationFields::default() {
            data.destination = self.changed_destination(user, id, &data, fields).await?;
        }
        self.apply_settings(user, &mut data.settings, settings)
            .await?;
        let now = self.clock.now();
        if !self
            .store
            .update_beneficiary(user, id, &to_json(&data)?, now)
            .await?
        {
            return Err(ServiceError::NotFound(Entity::Beneficiary));
        }
        current.record.updated_at = now;
        current.data = data;
        Ok(current)
    }

    /// Queues the deletion for its undo window. Asked again while a deletion of the same beneficiary is
    /// still queued (or running), it answers that one: a second entry would make cancelling the first one
    /// pointless. The store decides this in the transaction that queues, so requests racing each other
    /// get one entry on every engine; a deletion that was cancelled or failed does not stand in the way.
    pub async fn queue_beneficiary_deletion(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
    ) -> Result<JobRecord> {
        self.beneficiary_record(user, id).await?;
        let payload = to_json(&super::movements::plan::BeneficiaryDeletion {
            beneficiary_id: id.clone(),
        })?;
        let now = self.clock.now();
        let window = time::Duration::try_from(self.settings.undo_window_beneficiary_deletion)
            .unwrap_or(time::Duration::ZERO);
        let job = NewJob {
            id: OperationId::generate(),
            user_id: user.clone(),
            kind: JobKind::BeneficiaryDeletion,
            undoable: true,
            // Held only while the deletion is open: one pending deletion per beneficiary.
            client_ref: Some(id.as_str().to_owned()),
            payload,
            queued_at: now,
            due_at: now + window,
            max_attempts: self.settings.job_max_attempts,
            hold: None,
        };
        match self.store.enqueue_job_unless_open(&job).await? {
            Enqueued::Queued(job) => {
                if job.due_at <= now {
                    self.job_wakeup.notify_one();
                }
                Ok(job)
            }
            Enqueued::Existing(job) => Ok(job),
            other => Err(ServiceError::Internal(format!(
                "queueing a deletion answered {other:?}"
            ))),
        }
    }

    pub(crate) async fn execute_beneficiary_deletion(&self, job: &JobRecord) -> Result<JobOutcome> {
        let deletion: super::movements::plan::BeneficiaryDeletion =
            super::movements::plan::payload_of(job)?;
        self.store
            .delete_beneficiary(&job.user_id, &deletion.beneficiary_id, self.clock.now())
            .await?;
        Ok(JobOutcome::Done {
            result: "{}".to_owned(),
        })
    }

    async fn changed_destination(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
        data: &BeneficiaryData,
        changes: DestinationFields,
    ) -> Result<KeptDestination> {
        let today = self.clock.now().date();
        let mut fields = match &data.destination {
            KeptDestination::Details(destination) => fields_of(destination),
            KeptDestination::Card(card) => {
                if changes.destination_pan.is_none() {
                    // Only the holder's name can change without the number: the vault keeps the card,
                    // and a new expiry has to be vaulted with its number.
                    if !expiry_unchanged(card, &changes) {
                        return Err(ServiceError::invalid(
                            "MISSING_FIELD",
                            "destinationPAN is required to change the card's expiry",
                        ));
                    }
                    let mut card = card.clone();
                    if let Some(first) = changes
                        .destination_first_name
                        .filter(|s| !s.trim().is_empty())
                    {
                        card.first_name = first.trim().to_owned();
                    }
                    if let Some(last) = changes
                        .destination_last_name
                        .filter(|s| !s.trim().is_empty())
                    {
                        card.last_name = last.trim().to_owned();
                    }
                    return Ok(KeptDestination::Card(card));
                }
                DestinationFields {
                    destination_first_name: Some(card.first_name.clone()),
                    destination_last_name: Some(card.last_name.clone()),
                    expiry_yyyymm: Some(card.expiry.yyyymm()),
                    ..DestinationFields::default()
                }
            }
        };
        overlay(&mut fields, changes);
        let destination = Destination::parse(data.rail, &fields, today).map_err(invalid_field)?;
        self.keep(user, id, destination).await
    }

    async fn apply_settings(
        &self,
        user: &UserId,
        settings: &mut BeneficiarySettings,
        changes: SettingsChanges,
    ) -> Result<()> {
        if let Some(name) = changes.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(ServiceError::invalid(
                    "INVALID_NAME",
                    format!("name must be 1 to {MAX_NAME_CHARS} characters"),
                ));
            }
            settings.name = name;
        }
        let currency = changes
            .default_currency
            .or(settings.default_amount.map(|m| m.currency))
            .unwrap_or(Currency::USD);
        let default_amount = match (&changes.default_amount, changes.default_currency) {
            (Patch::Set(text), _) => Patch::Set(default_amount(text, currency)?),
            (Patch::Clear, _) => Patch::Clear,
            (Patch::Keep, None) => Patch::Keep,
            (Patch::Keep, Some(currency)) => Patch::Set(match settings.default_amount {
                Some(kept) => default_amount(&kept.to_decimal_string(), currency)?,
                None => Money::zero(currency),
            }),
        };
        default_amount.apply(&mut settings.default_amount);
        if let Patch::Set(account) = &changes.default_source_account_id {
            self.stored_account(user, account).await?;
        }
        changes
            .default_source_account_id
            .apply(&mut settings.default_source_account_id);
        if let Some(status) = changes.status {
            settings.status = status.trim().to_owned();
        }
        settings.is_active = changes.is_active.unwrap_or(settings.is_active);
        settings.is_favourite = changes.is_favourite.unwrap_or(settings.is_favourite);
        settings.is_hidden = changes.is_hidden.unwrap_or(settings.is_hidden);
        Ok(())
    }
}

pub(super) fn view(record: BeneficiaryRecord) -> Result<BeneficiaryView> {
    let data: BeneficiaryData = serde_json::from_str(&record.data)
        .map_err(|e| ServiceError::Internal(format!("beneficiary {}: {e}", record.id)))?;
    Ok(BeneficiaryView { record, data })
}

/// A default amount: exact in its currency, not negative.
fn default_amount(text: &str, currency: Currency) -> Result<Money> {
    let amount = Money::parse_decimal(text, currency)
        .map_err(|e| ServiceError::invalid("INVALID_AMOUNT", format!("defaultAmount: {e}")))?;
    if amount.minor < 0 {
        return Err(ServiceError::invalid(
            "INVALID_AMOUNT",
            "defaultAmount must not be negative",
        ));
    }
    Ok(amount)
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| ServiceError::Internal(format!("json: {e}")))
}

/// A missing field is `MISSING_FIELD`, as on every other route; a field with a bad value is
/// `INVALID_BENEFICIARY`. Either message names the wire field.
fn invalid_field(e: bankgate_domain::beneficiary::BeneficiaryError) -> ServiceError {
    use bankgate_domain::beneficiary::BeneficiaryError;
    let code = match e {
        BeneficiaryError::Missing { .. } => "MISSING_FIELD",
        BeneficiaryError::Invalid { .. } => "INVALID_BENEFICIARY",
    };
    ServiceError::invalid(code, e.to_string())
}

/// Whether the expiry fields sent (blank ones count as absent) all repeat the kept card's expiry.
fn expiry_unchanged(card: &CardOnFile, changes: &DestinationFields) -> bool {
    let sent = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let yyyymm_same = sent(&changes.expiry_yyyymm).is_none_or(|v| v == card.expiry.yyyymm());
    let mm_same =
        sent(&changes.expiry_mm).is_none_or(|v| v.parse::<u8>().ok() == Some(card.expiry.month));
    let yy_same = sent(&changes.expiry_yy)
        .is_none_or(|v| v == format!("{:02}", card.expiry.year.rem_euclid(100)));
    yyyymm_same && mm_same && yy_same
}

fn default_name(destination: &KeptDestination) -> String {
    match destination {
        KeptDestination::Card(card) => format!("{} {}", card.first_name, card.last_name),
        KeptDestination::Details(Destination::Ach(b) | Destination::Wire(b)) => {
            b.destination_name.clone()
        }
        KeptDestination::Details(Destination::Swift {
            destination_name,
            iban,
            ..
        }) => destination_name.clone().unwrap_or_else(|| iban.masked()),
        KeptDestination::Details(Destination::Paypal { paypal_id }) => paypal_id.clone(),
        KeptDestination::Details(Destination::Cheque { legal_name, .. }) => legal_name.clone(),
        KeptDestination::Details(Destination::PushToCard(card)) => {
            card.masked_pan().as_str().to_owned()
        }
    }
}
