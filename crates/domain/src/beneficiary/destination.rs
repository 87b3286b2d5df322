//! The validated destination of a beneficiary, one shape per rail, and the rules that build it from the
//! raw wire fields. Error reasons never repeat the value they refuse: these are account and card numbers.

use super::{AddressFields, BeneficiaryError, Bic, DestinationFields, Iban, Rail};
use crate::card::{luhn_valid, Expiry};
use crate::mask::MaskedPan;
use crate::routing::aba_routing_valid;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// Where a beneficiary's money goes. Built by [`Destination::parse`]; stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    Ach(BankAccountDestination),
    Wire(BankAccountDestination),
    Swift {
        bic: Bic,
        iban: Iban,
        destination_name: Option<String>,
        bank_name: Option<String>,
    },
    /// An e-mail address, or a phone number with its separators removed.
    Paypal {
        paypal_id: String,
    },
    PushToCard(CardDestination),
    Cheque {
        legal_name: String,
        address: PostalAddress,
    },
}

/// A US bank account, reached by ACH or domestic wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccountDestination {
    pub bank_name: String,
    pub destination_name: String,
    pub account_type: BankAccountType,
    /// Nine digits with a valid ABA check digit.
    pub routing_number: String,
    /// 4 to 17 digits (the NACHA field is 17 wide).
    pub account_number: String,
}

/// `type` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BankAccountType {
    Checking,
    Savings,
}

/// A card to push funds to. The full number is kept (it is needed to pay) and serialized, but `Debug`
/// shows it masked so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDestination {
    pan: String,
    pub expiry: Expiry,
    pub first_name: String,
    pub last_name: String,
}

/// A cheque's postal address. `state` and `country` are upper case when present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub address_type: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub province: String,
    pub postal_code: String,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
}

impl Destination {
    /// Validates the fields `rail` needs (see the contract's "required fields by txnType"), ignoring the
    /// others. A card expiring before `today`'s month is refused.
    pub fn parse(
        rail: Rail,
        fields: &DestinationFields,
        today: Date,
    ) -> Result<Destination, BeneficiaryError> {
        let f = fields;
        Ok(match rail {
            Rail::Ach => Destination::Ach(BankAccountDestination::parse(f)?),
            Rail::Wire => Destination::Wire(BankAccountDestination::parse(f)?),
            Rail::Swift => Destination::Swift {
                bic: Bic::parse(required(&f.bic, "bic")?)?,
                iban: Iban::parse(required(&f.iban, "iban")?)?,
                destination_name: optional(&f.destination_name).map(str::to_owned),
                bank_name: optional(&f.bank_name).map(str::to_owned),
            },
            Rail::Paypal => Destination::Paypal {
                paypal_id: parse_paypal_id(required(&f.paypal_id, "paypalId")?)?,
            },
            Rail::PushToCard => Destination::PushToCard(CardDestination::parse(f, today)?),
            Rail::Cheque => Destination::Cheque {
                legal_name: required(&f.legal_name, "legalName")?.to_owned(),
                address: PostalAddress::parse(f.address.as_ref())?,
            },
        })
    }

    pub fn rail(&self) -> Rail {
        match self {
            Destination::Ach(_) => Rail::Ach,
            Destination::Wire(_) => Rail::Wire,
            Destination::Swift { .. } => Rail::Swift,
            Destination::Paypal { .. } => Rail::Paypal,
            Destination::PushToCard(_) => Rail::PushToCard,
            Destination::Cheque { .. } => Rail::Cheque,
        }
    }
}

impl BankAccountDestination {
    fn parse(f: &DestinationFields) -> Result<Self, BeneficiaryError> {
        let bank_name = required(&f.bank_name, "bankName")?.to_owned();
        let destination_name = required(&f.destination_name, "destinationName")?.to_owned();
        let account_type = required(&f.account_type, "type")?;
        let account_type = BankAccountType::parse(account_type)
            .ok_or_else(|| BeneficiaryError::invalid("type", "must be CHECKING or SAVINGS"))?;
        let routing_number = required(&f.routing_number, "routingNumber")?;
        if routing_number.len() != 9 || !all_digits(routing_number) {
            return Err(BeneficiaryError::invalid(
                "routingNumber",
                "must be exactly 9 digits",
            ));
        }
        if !aba_routing_valid(routing_number) {
            return Err(BeneficiaryError::invalid(
                "routingNumber",
                "fails the ABA check digit (mistyped?)",
            ));
        }
        let account_number = required(&f.account_number, "accountNumber")?;
        if !(4..=17).contains(&account_number.len()) || !all_digits(account_number) {
            return Err(BeneficiaryError::invalid(
                "accountNumber",
                "must be 4 to 17 digits",
            ));
        }
        Ok(BankAccountDestination {
            bank_name,
            destination_name,
            account_type,
            routing_number: routing_number.to_owned(),
            account_number: account_number.to_owned(),
        })
    }

    /// The last 4 digits behind a fixed `****`, which does not reveal the number's length: `****6789`.
    pub fn masked_account_number(&self) -> String {
        let n = &self.account_number;
        format!("****{}", n.get(n.len().saturating_sub(4)..).unwrap_or(""))
    }
}

impl BankAccountType {
    /// Case-insensitive: clients are known to send "checking".
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CHECKING" => Some(BankAccountType::Checking),
            "SAVINGS" => Some(BankAccountType::Savings),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            BankAccountType::Checking => "CHECKING",
            BankAccountType::Savings => "SAVINGS",
        }
    }
}

impl CardDestination {
    fn parse(f: &DestinationFields, today: Date) -> Result<Self, BeneficiaryError> {
        const FIELD: &str = "destinationPAN";
        // Card numbers are commonly copied in groups of four; the separators mean nothing.
        let pan: String = required(&f.destination_pan, FIELD)?
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .collect();
        if !all_digits(&pan) {
            return Err(BeneficiaryError::invalid(FIELD, "must contain only digits"));
        }
        if !(12..=19).contains(&pan.len()) {
            return Err(BeneficiaryError::invalid(FIELD, "must be 12 to 19 digits"));
        }
        if !luhn_valid(&pan) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "fails the Luhn check digit (mistyped?)",
            ));
        }
        let (expiry, expiry_field) = parse_expiry(f)?;
        if expiry.is_expired_on(today) {
            return Err(BeneficiaryError::invalid(
                expiry_field,
                format!(
                    "the card expired at the end of {:02}/{}",
                    expiry.month, expiry.year
                ),
            ));
        }
        Ok(CardDestination {
            pan,
            expiry,
            first_name: required(&f.destination_first_name, "destinationFirstName")?.to_owned(),
            last_name: required(&f.destination_last_name, "destinationLastName")?.to_owned(),
        })
    }

    /// The full card number, digits only, for the one place that pays it.
    pub fn pan(&self) -> &str {
        &self.pan
    }

    /// First 4 and last 4 digits: `4111********1111`.
    pub fn masked_pan(&self) -> MaskedPan {
        MaskedPan::mask(&self.pan)
    }
}

impl fmt::Debug for CardDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardDestination")
            .field("pan", &self.masked_pan())
            .field("expiry", &self.expiry)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .finish()
    }
}

/// The expiry from `expiryYYYYMM`, or else from `expiryMM` and `expiryYY`, with the wire field to blame
/// if the card turns out to be expired. When both forms are sent they must agree: silently preferring
/// one would pay a card with a date the user did not mean.
fn parse_expiry(f: &DestinationFields) -> Result<(Expiry, &'static str), BeneficiaryError> {
    let mm = optional(&f.expiry_mm).map(parse_month).transpose()?;
    let yy = optional(&f.expiry_yy).map(parse_yy).transpose()?;
    let Some(yyyymm) = optional(&f.expiry_yyyymm) else {
        return match (mm, yy) {
            (Some(month), Some(year)) => Ok((Expiry { year, month }, "expiryYY")),
            (Some(_), None) => Err(BeneficiaryError::Missing { field: "expiryYY" }),
            (None, Some(_)) => Err(BeneficiaryError::Missing { field: "expiryMM" }),
            (None, None) => Err(BeneficiaryError::Missing {
                field: "expiryYYYYMM",
            }),
        };
    };
    let bad = || BeneficiaryError::invalid("expiryYYYYMM", "must be YYYYMM, e.g. 202812");
    if yyyymm.len() != 6 || !all_digits(yyyymm) {
        return Err(bad());
    }
    let year: i32 = yyyymm
        .get(..4)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let month: u8 = yyyymm
        .get(4..)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    if !(1..=12).contains(&month) {
        return Err(bad());
    }
    if mm.is_some_and(|m| m != month) {
        return Err(BeneficiaryError::invalid(
            "expiryMM",
            "disagrees with expiryYYYYMM",
        ));
    }
    if yy.is_some_and(|y| y != year) {
        return Err(BeneficiaryError::invalid(
            "expiryYY",
            "disagrees with expiryYYYYMM",
        ));
    }
    Ok((Expiry { year, month }, "expiryYYYYMM"))
}

fn parse_month(s: &str) -> Result<u8, BeneficiaryError> {
    match s.parse::<u8>() {
        Ok(m) if (1..=12).contains(&m) && s.len() <= 2 && all_digits(s) => Ok(m),
        _ => Err(BeneficiaryError::invalid(
            "expiryMM",
            "must be a month, 01 to 12",
        )),
    }
}

/// Two digits, in this century: no card issued today expires in another.
fn parse_yy(s: &str) -> Result<i32, BeneficiaryError> {
    match s.parse::<i32>() {
        Ok(y) if s.len() == 2 && all_digits(s) => Ok(2000 + y),
        _ => Err(BeneficiaryError::invalid("expiryYY", "must be two digits")),
    }
}

/// An e-mail address, or a phone number such as `+1 (415) 555-0123`, kept as `+14155550123`.
fn parse_paypal_id(id: &str) -> Result<String, BeneficiaryError> {
    if id.contains('@') {
        return if is_email(id) {
            Ok(id.to_owned())
        } else {
            Err(BeneficiaryError::invalid(
                "paypalId",
                "is not a valid e-mail address",
            ))
        };
    }
    let (plus, rest) = match id.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", id),
    };
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    // E.164 allows at most 15 digits; fewer than 7 is no reachable number anywhere.
    if all_digits(&digits) && (7..=15).contains(&digits.len()) && !digits.starts_with('0') {
        Ok(format!("{plus}{digits}"))
    } else {
        Err(BeneficiaryError::invalid(
            "paypalId",
            "must be an e-mail address or a phone number such as +14155550123",
        ))
    }
}

/// A pragmatic shape check, not RFC 5322: one `@`, no spaces, and a dotted domain of letters, digits and
/// inner hyphens. PayPal itself is the judge of whether the account exists.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    s.len() <= 254
        && !local.is_empty()
        && !local.contains(|c: char| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

impl PostalAddress {
    fn parse(a: Option<&AddressFields>) -> Result<Self, BeneficiaryError> {
        let a = a.ok_or(BeneficiaryError::Missing { field: "address" })?;
        let req = |v, field| required(v, field).map(str::to_owned);
        let address_line1 = req(&a.address_line1, "address.addressLine1")?;
        let city = req(&a.city, "address.city")?;
        let state = two_letters(&a.state, "address.state", "must be 2 letters")?;
        let province = req(&a.province, "address.province")?;
        let postal_code = req(&a.postal_code, "address.postalCode")?;
        let country = two_letters(
            &a.country,
            "address.country",
            "must be an ISO 3166 alpha-2 code such as US",
        )?;
        Ok(PostalAddress {
            address_type: optional(&a.address_type).map(str::to_owned),
            address_line1,
            address_line2: optional(&a.address_line2).map(str::to_owned),
            city,
            state,
            province,
            postal_code,
            country,
        })
    }
}

/// An optional field that, when present, must be exactly two ASCII letters; kept upper case.
fn two_letters(
    v: &Option<String>,
    field: &'static str,
    reason: &str,
) -> Result<Option<String>, BeneficiaryError> {
    match optional(v) {
        None => Ok(None),
        Some(s) if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(Some(s.to_ascii_uppercase()))
        }
        Some(_) => Err(BeneficiaryError::invalid(field, reason)),
    }
}

/// A field with its surrounding whitespace trimmed; blank counts as absent, as clients send "" for
/// fields they leave empty.
fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn required<'a>(v: &'a Option<String>, field: &'static str) -> Result<&'a str, BeneficiaryError> {
    optional(v).ok_or(BeneficiaryError::Missing { field })
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
