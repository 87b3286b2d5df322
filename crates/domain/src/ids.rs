//! Opaque ids in the contract's style: a short lowercase base36 string made of the deployment prefix, a
//! type tag and random characters (`bgacc3k9x...`). Each kind of id is its own type, so an account id can
//! never be passed where a card id is expected.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Prefix of every id bankgate mints, like the reference's environment prefix.
pub const ID_PREFIX: &str = "bg";
const RANDOM_LEN: usize = 14;
const MAX_ID_LEN: usize = 64;

/// `len` random lowercase base36 characters (about 5.2 bits each).
pub fn random_base36(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A new undo id: five random lowercase letters, as the reference's undo ids are (`"ozqtz"`).
pub fn new_undo_id() -> String {
    let mut rng = rand::rng();
    (0..5)
        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
        .collect()
}

/// Whether `s` can be an id at all: non-empty, bounded, and made of URL-safe characters. Ids that pass
/// this may still name nothing; that is a 404 further in.
pub fn is_plausible_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $tag:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The type tag that follows the prefix in generated ids.
            pub const TAG: &'static str = $tag;

            /// A new random id of this kind.
            pub fn generate() -> Self {
                $name(format!("{}{}{}", ID_PREFIX, $tag, random_base36(RANDOM_LEN)))
            }

            /// An id as received from a client or read back from the store.
            pub fn parse(s: &str) -> Option<Self> {
                is_plausible_id(s).then(|| $name(s.to_owned()))
            }

            /// Wraps a value that already came from a trusted source (the store or a back office).
            pub fn from_trusted(s: String) -> Self {
                $name(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// A bankgate user (`AFiUserId`).
    UserId, "usr");
id_type!(
    /// An account as bankgate knows it (`AFiAccountId`).
    AccountId, "acc");
id_type!(
    /// A card as bankgate knows it (`AFiCardId`).
    CardId, "crd");
id_type!(
    /// A transaction as bankgate knows it (`transactionId`).
    TransactionId, "trn");
id_type!(
    /// A device the user has logged in from (`AFiDeviceId`, also the linklink id).
    DeviceId, "dev");
id_type!(
    /// A payment destination the user registered (`AFiBeneficiaryId`).
    BeneficiaryId, "ben");
id_type!(
    /// One money operation or queued action (a transfer, a remittance, a beneficiary deletion): the
    /// durable job that carries it out, and the `reference` front ends and back offices see.
    OperationId, "opr");
id_type!(
    /// A message between a user and support (`AFiMessageId`).
    MessageId, "msg");

/// The id a back office gives to one of its own objects (`accountIdBO`, `cardIdBO`, ...). Opaque to bankgate.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct BoRef(pub String);

impl BoRef {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoRef({})", self.0)
    }
}

/// A configured back office's id (`backOfficeId`), such as `sandbox-a`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(utoipa::ToSchema),
    schema(example = "sandbox-a")
)]
#[serde(transparent)]
pub struct BackOfficeId(String);

impl BackOfficeId {
    pub fn parse(s: &str) -> Option<Self> {
        is_plausible_id(s).then(|| BackOfficeId(s.to_owned()))
    }

    pub fn from_trusted(s: String) -> Self {
        BackOfficeId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BackOfficeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BackOfficeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BackOfficeId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_tagged_lowercase_base36() {
        let id = AccountId::generate();
        assert!(id.as_str().starts_with("bgacc"));
        assert_eq!(id.as_str().len(), 2 + 3 + RANDOM_LEN);
        assert!(id
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(AccountId::generate(), AccountId::generate());
    }

    #[test]
    fn parse_refuses_unsafe_input() {
        assert!(CardId::parse("bgcrd123").is_some());
        assert!(CardId::parse("").is_none());
        assert!(CardId::parse("../etc").is_none());
        assert!(CardId::parse(&"a".repeat(65)).is_none());
    }
}
