//! Where a beneficiary's money goes: the back office's `Payee` for a payment, a card destination kept
//! as vault references (its number goes to the vaults, never to bankgate's store), and the raw fields a kept
//! destination was parsed from, so changes can be laid over them and parsed again.

use super::{BeneficiaryView, CardOnFile, KeptDestination};
use crate::services::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{CardToVault, IdempotencyKey, Payee};
use bankgate_domain::beneficiary::{
    AddressFields, CardDestination, Destination, DestinationFields,
};
use bankgate_domain::ids::{BackOfficeId, BeneficiaryId, OperationId, UserId};
use std::collections::BTreeMap;

impl Services {
    /// How the back office `back_office` is to pay this beneficiary.
    pub fn payee_for(
        &self,
        beneficiary: &BeneficiaryView,
        back_office: &BackOfficeId,
    ) -> Result<Payee> {
        let data = &beneficiary.data;
        let mut details = BTreeMap::new();
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(value) = value {
                details.insert(key.to_owned(), value.to_owned());
            }
        };
        let name = match &data.destination {
            KeptDestination::Card(card) => {
                let vault_ref = card.vault_refs.get(back_office).ok_or_else(|| {
                    ServiceError::conflict(
                        "CARD_NOT_ON_FILE",
                        "this card beneficiary cannot be paid from that account's bank; add it again",
                    )
                })?;
                put("cardRef", Some(vault_ref));
                format!("{} {}", card.first_name, card.last_name)
            }
            KeptDestination::Details(Destination::Ach(bank) | Destination::Wire(bank)) => {
                put("routingNumber", Some(&bank.routing_number));
                put("accountNumber", Some(&bank.account_number));
                put("bankName", Some(&bank.bank_name));
                put("type", Some(bank.account_type.as_str()));
                bank.destination_name.clone()
            }
            KeptDestination::Details(Destination::Swift {
                bic,
                iban,
                destination_name,
                bank_name,
            }) => {
                put("bic", Some(bic.as_str()));
                put("iban", Some(iban.as_str()));
                put("bankName", bank_name.as_deref());
                destination_name
                    .clone()
                    .unwrap_or_else(|| data.settings.name.clone())
            }
            KeptDestination::Details(Destination::Paypal { paypal_id }) => {
                put("paypalId", Some(paypal_id));
                data.settings.name.clone()
            }
            KeptDestination::Details(Destination::Cheque {
                legal_name,
                address,
            }) => {
                put("addressLine1", Some(&address.address_line1));
                put("addressLine2", address.address_line2.as_deref());
                put("city", Some(&address.city));
                put("province", Some(&address.province));
                put("state", address.state.as_deref());
                put("postalCode", Some(&address.postal_code));
                put("country", address.country.as_deref());
                legal_name.clone()
            }
            KeptDestination::Details(Destination::PushToCard(_)) => {
                return Err(ServiceError::Internal("a card number was kept".into()))
            }
        };
        Ok(Payee {
            rail: data.rail,
            name,
            details,
        })
    }
    /// A destination ready to keep: a card goes to the vaults and is kept masked.
    pub(super) async fn keep(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
        destination: Destination,
    ) -> Result<KeptDestination> {
        match destination {
            Destination::PushToCard(card) => {
                Ok(KeptDestination::Card(self.vault(user, id, &card).await?))
            }
            other => Ok(KeptDestination::Details(other)),
        }
    }

    /// Vaults the card at every back office of the user that pays out.
    async fn vault(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
        card: &CardDestination,
    ) -> Result<CardOnFile> {
        let to_vault = CardToVault {
            pan: card.pan().to_owned(),
            expiry: card.expiry,
            holder_name: format!("{} {}", card.first_name, card.last_name),
        };
        let masked = card.masked_pan();
        // One key per vaulting: retries of this call share it, but a later vaulting for the same
        // beneficiary (a renewed card with a new expiry, another card with the same first and last four
        // digits) must not be answered with the card vaulted before.
        let key = IdempotencyKey(format!("{id}:vault:{}", OperationId::generate()));
        let mut vault_refs = BTreeMap::new();
        for link in self.links(user).await?.iter() {
            let office = &link.back_office_id;
            let Ok(bo) = self.back_offices.get(office) else {
                continue;
            };
            if bo.payments().is_none() {
                continue;
            }
            let (to_vault, key) = (&to_vault, &key);
            let reference = self
                .call_back_office(
                    office,
                    "payments.vault_card",
                    Entity::Beneficiary,
                    |bo| async move { bo.require_payments()?.vault_card(to_vault, key).await },
                )
                .await?;
            vault_refs.insert(office.clone(), reference.0);
        }
        if vault_refs.is_empty() {
            return Err(ServiceError::conflict(
                "NO_CARD_PAYMENTS",
                "none of your banks can pay to cards",
            ));
        }
        Ok(CardOnFile {
            masked_pan: masked,
            expiry: card.expiry,
            first_name: card.first_name.clone(),
            last_name: card.last_name.clone(),
            vault_refs,
        })
    }
}

/// The fields a kept destination was parsed from, so changes can be laid over them and parsed again.
pub(super) fn fields_of(destination: &Destination) -> DestinationFields {
    let mut fields = DestinationFields::default();
    match destination {
        Destination::Ach(bank) | Destination::Wire(bank) => {
            fields.bank_name = Some(bank.bank_name.clone());
            fields.destination_name = Some(bank.destination_name.clone());
            fields.account_type = Some(bank.account_type.as_str().to_owned());
            fields.routing_number = Some(bank.routing_number.clone());
            fields.account_number = Some(bank.account_number.clone());
        }
        Destination::Swift {
            bic,
            iban,
            destination_name,
            bank_name,
        } => {
            fields.bic = Some(bic.as_str().to_owned());
            fields.iban = Some(iban.as_str().to_owned());
            fields.destination_name = destination_name.clone();
            fields.bank_name = bank_name.clone();
        }
        Destination::Paypal { paypal_id } => fields.paypal_id = Some(paypal_id.clone()),
        Destination::PushToCard(card) => {
            fields.destination_pan = Some(card.pan().to_owned());
            fields.expiry_yyyymm = Some(card.expiry.yyyymm());
            fields.destination_first_name = Some(card.first_name.clone());
            fields.destination_last_name = Some(card.last_name.clone());
        }
        Destination::Cheque {
            legal_name,
            address,
        } => {
            fields.legal_name = Some(legal_name.clone());
            fields.address = Some(AddressFields {
                address_type: address.address_type.clone(),
                address_line1: Some(address.address_line1.clone()),
                address_line2: address.address_line2.clone(),
                city: Some(address.city.clone()),
                state: address.state.clone(),
                province: Some(address.province.clone()),
                postal_code: Some(address.postal_code.clone()),
                country: address.country.clone(),
            });
        }
    }
    fields
}

/// Lays the sent fields over the kept ones. An expiry sent in one form replaces both forms.
pub(super) fn overlay(fields: &mut DestinationFields, changes: DestinationFields) {
    macro_rules! take {
        ($($field:ident),*) => {
            $(if changes.$field.is_some() { fields.$field = changes.$field; })*
        };
    }
    if changes.expiry_yyyymm.is_some() || changes.expiry_mm.is_some() || changes.expiry_yy.is_some()
    {
        fields.expiry_yyyymm = None;
        fields.expiry_mm = None;
        fields.expiry_yy = None;
    }
    take!(
        destination_name,
        destination_first_name,
        destination_last_name,
        bank_name,
        routing_number,
        account_number,
        account_type,
        bic,
        iban,
        paypal_id,
        destination_pan,
        expiry_yyyymm,
        expiry_mm,
        expiry_yy,
        legal_name,
        mobile,
        address
    );
}
