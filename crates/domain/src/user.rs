//! The bankgate user's profile: who they are and how to reach them. bankgate owns this record; back
//! offices know the user only as their own customer.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub first_name: String,
    pub middle_name: Option<String>,
    pub last_name: String,
}

/// A postal address. `country_code` is ISO alpha-2 or alpha-3 as the client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country_code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub name: PersonName,
    /// Earlier names, newest last.
    pub previous_names: Vec<PersonName>,
    pub sort_id: String,
    pub language_code: String,
    pub segment: String,
    pub referral_code: String,
    /// True for an individual, false for a business.
    pub is_private: bool,
    pub ui_stage: String,
    pub post_onboarding_steps_required: Option<String>,
    /// Kept to send to back offices; never returned, only its masked form.
    pub ssn: Option<String>,
    pub date_of_birth: Option<String>,
    pub email: Option<String>,
    pub emails: Vec<String>,
    pub phone_number: Option<String>,
    pub phone_numbers: Vec<String>,
    pub mobile: Option<String>,
    pub addresses: Vec<Address>,
    pub is_metric: Option<bool>,
    pub face_image: Option<String>,
}
