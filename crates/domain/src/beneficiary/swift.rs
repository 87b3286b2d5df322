//! The two identifiers of a SWIFT payment: the IBAN (ISO 13616) of the account and the BIC (ISO 9362) of
//! its bank. Both are stored and serialized in their canonical form (no spaces, upper case) and checked
//! again when read back, so a value of either type is always well formed.

use super::BeneficiaryError;
use serde::{Deserialize, Serialize};

/// An International Bank Account Number whose ISO 7064 mod-97 check digits are right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);

impl Iban {
    /// Accepts the paper form ("GB82 WEST 1234 ...") as well as the electronic one; spaces are only
    /// print grouping and case carries no meaning.
    pub fn parse(input: &str) -> Result<Iban, BeneficiaryError> {
        const FIELD: &str = "iban";
        let iban = canonical(input);
        if iban.is_empty() {
            return Err(BeneficiaryError::Missing { field: FIELD });
        }
        // Checked first so that the byte positions used below are characters.
        if !iban.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "may contain only letters and digits",
            ));
        }
        if !(15..=34).contains(&iban.len()) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                format!("must be 15 to 34 characters long, not {}", iban.len()),
            ));
        }
        let [c1, c2, d1, d2, ..] = iban.as_bytes() else {
            return Err(BeneficiaryError::invalid(FIELD, "is too short"));
        };
        if !(c1.is_ascii_uppercase() && c2.is_ascii_uppercase()) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "must start with a two-letter country code",
            ));
        }
        // The check digits are computed as 98 - (n mod 97), so only 02..=98 can ever be issued; 00, 01 and
        // 99 would otherwise slip through the mod-97 test as aliases of 97, 98 and 02.
        let check = (d1.wrapping_sub(b'0'), d2.wrapping_sub(b'0'));
        let check_ok = check.0 <= 9 && check.1 <= 9 && (2..=98).contains(&(check.0 * 10 + check.1));
        if !check_ok {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "the country code must be followed by two check digits between 02 and 98",
            ));
        }
        if mod97(iban.get(4..).unwrap_or(""), iban.get(..4).unwrap_or("")) != 1 {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "the check digits do not match (mistyped?)",
            ));
        }
        Ok(Iban(iban))
    }

    /// The electronic form: no spaces, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country_code(&self) -> &str {
        self.0.get(..2).unwrap_or("")
    }

    /// Country code and last 4 characters, with a fixed run of stars between them so the mask does not
    /// reveal the length (and so the country's account format): `DE************3000`.
    pub fn masked(&self) -> String {
        let last4 = self.0.get(self.0.len().saturating_sub(4)..).unwrap_or("");
        format!("{}************{last4}", self.country_code())
    }
}

/// The ISO 7064 MOD 97-10 remainder of `tail` followed by `head`, letters counting as 10 (A) to 35 (Z).
/// Folded digit by digit because the number has up to 70 digits.
fn mod97(tail: &str, head: &str) -> u32 {
    tail.chars().chain(head.chars()).fold(0, |acc, c| {
        let v = c.to_digit(36).unwrap_or(0);
        let shift = if v >= 10 { 100 } else { 10 };
        (acc * shift + v) % 97
    })
}

impl TryFrom<String> for Iban {
    type Error = BeneficiaryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Iban::parse(&s)
    }
}

impl From<Iban> for String {
    fn from(iban: Iban) -> String {
        iban.0
    }
}

/// A Business Identifier Code: bank (4 letters), country (2 letters), location (2 letters or digits) and
/// an optional branch (3 letters or digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bic(String);

impl Bic {
    pub fn parse(input: &str) -> Result<Bic, BeneficiaryError> {
        const FIELD: &str = "bic";
        let bic = canonical(input);
        let b = bic.as_bytes();
        if b.is_empty() {
            return Err(BeneficiaryError::Missing { field: FIELD });
        }
        if b.len() != 8 && b.len() != 11 {
            return Err(BeneficiaryError::invalid(
                FIELD,
                format!("must be 8 or 11 characters long, not {}", b.len()),
            ));
        }
        let (bank, rest) = b.split_at(4);
        let (country, rest) = rest.split_at(2);
        if !bank.iter().all(u8::is_ascii_uppercase) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "the first 4 characters (bank code) must be letters",
            ));
        }
        if !country.iter().all(u8::is_ascii_uppercase) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "characters 5 and 6 must be a two-letter country code",
            ));
        }
        if !rest.iter().all(u8::is_ascii_alphanumeric) {
            return Err(BeneficiaryError::invalid(
                FIELD,
                "the location and branch codes must be letters or digits",
            ));
        }
        Ok(Bic(bic))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn country_code(&self) -> &str {
        self.0.get(4..6).unwrap_or("")
    }
}

impl TryFrom<String> for Bic {
    type Error = BeneficiaryError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Bic::parse(&s)
    }
}

impl From<Bic> for String {
    fn from(bic: Bic) -> String {
        bic.0
    }
}

/// Drops all whitespace (print grouping) and upper-cases.
fn canonical(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iban_reason(s: &str) -> String {
        match Iban::parse(s) {
            Err(BeneficiaryError::Invalid {
                field: "iban",
                reason,
            }) => reason,
            other => panic!("{s:?} should be an invalid iban, got {other:?}"),
        }
    }

    #[test]
    fn valid_ibans_are_canonicalised() {
        let gb = Iban::parse(" gb82 west 1234 5698 7654 32 ").unwrap();
        assert_eq!(gb.as_str(), "GB82WEST12345698765432");
        assert_eq!(gb.country_code(), "GB");
        let de = Iban::parse("DE89370400440532013000").unwrap();
        assert_eq!(de.masked(), "DE************3000");
        // Norway has the shortest IBANs (15 characters).
        assert!(Iban::parse("NO9386011117947").is_ok());
    }

    #[test]
    fn invalid_ibans_say_why() {
        assert!(iban_reason("DE89370400440532013001").contains("check digits do not match"));
        assert!(iban_reason("GB82 WEST 1234 5698 7654 33").contains("do not match"));
        assert!(iban_reason("DE8937040044").contains("15 to 34"));
        assert!(iban_reason("DE89 3704 0044 0532 0130 00 0000 0000 0000 0").contains("15 to 34"));
        assert!(iban_reason("DE89-3704-0044-0532-0130-00").contains("letters and digits"));
        assert!(iban_reason("1289370400440532013000").contains("country code"));
        assert!(iban_reason("DEX9370400440532013000").contains("check digits between"));
        // Check digits 00, 01 and 99 are never issued, whatever the sum says.
        assert!(iban_reason("NO0086011117947").contains("between 02 and 98"));
        assert_eq!(
            Iban::parse("   "),
            Err(BeneficiaryError::Missing { field: "iban" })
        );
    }

    #[test]
    fn bics() {
        assert_eq!(Bic::parse("DEUTDEFF").unwrap().as_str(), "DEUTDEFF");
        let branch = Bic::parse(" deutdeff500 ").unwrap();
        assert_eq!(branch.as_str(), "DEUTDEFF500");
        assert_eq!(branch.country_code(), "DE");
        let reason = |s: &str| match Bic::parse(s) {
            Err(BeneficiaryError::Invalid {
                field: "bic",
                reason,
            }) => reason,
            other => panic!("{s:?} should be an invalid bic, got {other:?}"),
        };
        assert!(reason("DEUT1EFF").contains("country code"));
        assert!(reason("DEU1DEFF").contains("bank code"));
        assert!(reason("DEUTDEF_").contains("location"));
        assert!(reason("DEUTDEFF50").contains("8 or 11"));
        assert!(reason("DEUTDEFF5000").contains("8 or 11"));
    }

    #[test]
    fn serialized_as_strings_and_checked_on_read() {
        let iban = Iban::parse("DE89370400440532013000").unwrap();
        let json = serde_json::to_string(&iban).unwrap();
        assert_eq!(json, "\"DE89370400440532013000\"");
        assert_eq!(serde_json::from_str::<Iban>(&json).unwrap(), iban);
        assert!(serde_json::from_str::<Iban>("\"DE89370400440532013001\"").is_err());
        assert_eq!(
            serde_json::to_string(&Bic::parse("DEUTDEFF").unwrap()).unwrap(),
            "\"DEUTDEFF\""
        );
        assert!(serde_json::from_str::<Bic>("\"DEUT1EFF\"").is_err());
    }
}
