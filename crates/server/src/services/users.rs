//! The user's own record: reading it, and applying the editable fields of a "sync user" change.

use super::{Entity, Result, ServiceError, Services};
use bankgate_domain::ids::UserId;
use bankgate_domain::patch::Patch;
use bankgate_domain::user::{Address, UserProfile};
use bankgate_store::UserRecord;

/// The user as returned to the front end, with what bankgate derives about them.
#[derive(Debug, Clone)]
pub struct UserView {
    pub record: UserRecord,
    /// The user holds a product at some back office.
    pub is_fully_registered: bool,
}

/// The fields a user may change about themselves. Anything else a client sends is ignored.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
    pub email: Patch<String>,
    pub emails: Option<Vec<String>>,
    pub phone_number: Patch<String>,
    pub phone_numbers: Option<Vec<String>>,
    pub mobile: Patch<String>,
    pub new_addresses: Vec<Address>,
    pub deleted_addresses: Vec<Address>,
    pub is_metric: Patch<bool>,
    pub post_onboarding_steps_required: Patch<String>,
    pub face_image: Patch<String>,
}

impl Services {
    pub async fn get_user(&self, user: &UserId) -> Result<UserView> {
        let record = self
            .store
            .get_user(user)
            .await?
            .ok_or(ServiceError::NotFound(Entity::User))?;
        let is_fully_registered = !self.links(user).await?.is_empty();
        Ok(UserView {
            record,
            is_fully_registered,
        })
    }

    pub async fn update_user(&self, user: &UserId, update: UserUpdate) -> Result<UserView> {
        let current = self
            .store
            .get_user(user)
            .await?
            .ok_or(ServiceError::NotFound(Entity::User))?;
        let profile = apply_update(current.profile, update)?;
        self.store
            .update_profile(user, &profile, self.clock.now())
            .await?;
        self.get_user(user).await
    }
}

fn apply_update(mut profile: UserProfile, update: UserUpdate) -> Result<UserProfile> {
    if let Some(code) = &update.language_code {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ServiceError::invalid(
                "INVALID_LANGUAGE_CODE",
                "languageCode must be two lowercase letters",
            ));
        }
    }
    let renamed = update.first_name.is_some() || update.last_name.is_some();
    if renamed {
        let previous = profile.name.clone();
        if let Some(first) = update.first_name {
            profile.name.first_name = non_empty("firstName", first)?;
        }
        if let Some(last) = update.last_name {
            profile.name.last_name = non_empty("lastName", last)?;
        }
        if profile.name != previous {
            profile.previous_names.push(previous);
        }
    }
    if let Some(code) = update.language_code {
        profile.language_code = code;
    }
    update.email.apply(&mut profile.email);
    if let Some(emails) = update.emails {
        profile.emails = emails;
    }
    update.phone_number.apply(&mut profile.phone_number);
    if let Some(numbers) = update.phone_numbers {
        profile.phone_numbers = numbers;
    }
    update.mobile.apply(&mut profile.mobile);
    profile
        .addresses
        .retain(|a| !update.deleted_addresses.contains(a));
    for address in update.new_addresses {
        if !profile.addresses.contains(&address) {
            profile.addresses.push(address);
        }
    }
    update.is_metric.apply(&mut profile.is_metric);
    update
        .post_onboarding_steps_required
        .apply(&mut profile.post_onboarding_steps_required);
    update.face_image.apply(&mut profile.face_image);
    Ok(profile)
}

fn non_empty(field: &str, value: String) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ServiceError::invalid(
            "INVALID_NAME",
            format!("{field} cannot be empty"),
        ));
    }
    Ok(trimmed.to_owned())
}
