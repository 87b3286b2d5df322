//! The user object and the "sync user" body.

use super::common::{dts, lenient_bool, patch};
use crate::services::users::{UserUpdate, UserView};
use bankgate_domain::mask::mask_ssn;
use bankgate_domain::patch::Patch;
use bankgate_domain::user::{Address, PersonName};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameWire {
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
}

impl From<PersonName> for NameWire {
    fn from(n: PersonName) -> Self {
        NameWire {
            first_name: n.first_name,
            middle_name: n.middle_name,
            last_name: n.last_name,
        }
    }
}

/// A postal address; `country` is accepted for `countryCode`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressWire {
    pub address_line1: String,
    #[serde(default)]
    pub address_line2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    #[serde(alias = "country")]
    pub country_code: String,
}

impl From<AddressWire> for Address {
    fn from(a: AddressWire) -> Self {
        Address {
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country_code: a.country_code,
        }
    }
}

impl From<Address> for AddressWire {
    fn from(a: Address) -> Self {
        AddressWire {
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country_code: a.country_code,
        }
    }
}

/// The user object. `ssn` is never returned, only `ssnMasked`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserWire {
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    pub id: String,
    pub user_name: String,
    pub dts_created: String,
    pub dts_modified: String,
    pub dts_created_at_users: String,
    pub name: NameWire,
    pub names: Vec<NameWire>,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
    pub sort_id: String,
    pub language_code: String,
    pub segment: String,
    pub post_onboarding_steps_required: Option<String>,
    pub referral_code: String,
    #[schema(value_type = Object)]
    pub extras: serde_json::Value,
    pub private: bool,
    pub is_fully_registered: bool,
    pub is_idle_user: bool,
    pub ui_stage: String,
    pub ssn_masked: Option<String>,
    pub dos_dob: Option<String>,
    pub email: Option<String>,
    pub emails: Vec<String>,
    pub phone_number: Option<String>,
    pub phone_numbers: Vec<String>,
    pub mobile: Option<String>,
    pub addresses: Vec<AddressWire>,
    pub is_metric: Option<bool>,
}

impl From<UserView> for UserWire {
    fn from(view: UserView) -> Self {
        let r = view.record;
        let p = r.profile;
        UserWire {
            afi_user_id: r.id.as_str().to_owned(),
            id: r.id.into_string(),
            user_name: r.user_name,
            dts_created: dts(r.created_at),
            dts_modified: dts(r.modified_at),
            dts_created_at_users: dts(r.created_at),
            first_name: p.name.first_name.clone(),
            middle_name: p.name.middle_name.clone(),
            last_name: p.name.last_name.clone(),
            name: p.name.into(),
            names: p.previous_names.into_iter().map(Into::into).collect(),
            sort_id: p.sort_id,
            language_code: p.language_code,
            segment: p.segment,
            post_onboarding_steps_required: p.post_onboarding_steps_required,
            referral_code: p.referral_code,
            extras: serde_json::Value::Object(Default::default()),
            private: p.is_private,
            is_fully_registered: view.is_fully_registered,
            is_idle_user: !view.is_fully_registered,
            ui_stage: p.ui_stage,
            ssn_masked: p.ssn.as_deref().map(mask_ssn),
            dos_dob: p.date_of_birth,
            email: p.email,
            emails: p.emails,
            phone_number: p.phone_number,
            phone_numbers: p.phone_numbers,
            mobile: p.mobile,
            addresses: p.addresses.into_iter().map(Into::into).collect(),
            is_metric: p.is_metric,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub success: bool,
    pub user: UserWire,
}

/// `POST /user` body: only the changed fields. Fields not listed here (such as `ssn`) are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct UserUpdateBody {
    /// Accepted and ignored: the server sets the modification time.
    pub dts_modified: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    pub emails: Option<Vec<String>>,
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub phone_number: Patch<String>,
    pub phone_numbers: Option<Vec<String>>,
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub mobile: Patch<String>,
    pub new_addresses: Option<Vec<AddressWire>>,
    pub deleted_addresses: Option<Vec<AddressWire>>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_metric: Option<bool>,
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub post_onboarding_steps_required: Patch<String>,
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub face_image: Patch<String>,
}

impl From<UserUpdateBody> for UserUpdate {
    fn from(b: UserUpdateBody) -> Self {
        UserUpdate {
            first_name: b.first_name,
            last_name: b.last_name,
            language_code: b.language_code,
            email: b.email,
            emails: b.emails,
            phone_number: b.phone_number,
            phone_numbers: b.phone_numbers,
            mobile: b.mobile,
            new_addresses: b
                .new_addresses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            deleted_addresses: b
                .deleted_addresses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            is_metric: b.is_metric.map_or(Patch::Keep, Patch::Set),
            post_onboarding_steps_required: b.post_onboarding_steps_required,
            face_image: b.face_image,
        }
    }
}
