//! Users, their profiles and passwords, and the back offices where each is a customer.

use crate::events::EventKind;
use crate::json::{from_text, to_text};
use crate::{BackOfficeLink, NewUser, Result, Store, StoreError, UserRecord};
use bankgate_db::is_unique_violation;
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use bankgate_domain::user::UserProfile;
use sqlx::query;
use sqlx::query_as;
use time::OffsetDateTime;

type UserRow = (String, String, String, i64, i64);

fn user_from_row((id, user_name, profile, created, modified): UserRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: UserId::from_trusted(id),
        user_name,
        profile: from_text(&profile)?,
        created_at: from_millis(created),
        modified_at: from_millis(modified),
    })
}

impl Store {
    pub async fn create_user(&self, user: &NewUser) -> Result<()> {
        let at = to_millis(user.created_at);
        query("INSERT INTO users (id, user_name, password_hash, profile, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(user.id.as_str())
            .bind(&user.user_name)
            .bind(&user.password_hash)
            .bind(to_text(&user.profile)?)
            .bind(at)
            .execute(self.db().write())
            .await
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("user name taken") } else { e.into() })?;
        Ok(())
    }

    /// The id and password hash for a user name, for login.
    pub async fn find_credentials(&self, user_name: &str) -> Result<Option<(UserId, String)>> {
        let row: Option<(String, String)> =
            query_as("SELECT id, password_hash FROM users WHERE user_name = $1")
                .bind(user_name)
                .fetch_optional(self.db().read())
                .await?;
        Ok(row.map(|(id, hash)| (UserId::from_trusted(id), hash)))
    }

    pub async fn user_count(&self) -> Result<i64> {
        let (n,): (i64,) = query_as("SELECT COUNT(*) FROM users")
            .fetch_one(self.db().read())
            .await?;
        Ok(n)
    }

    pub async fn get_user(&self, id: &UserId) -> Result<Option<UserRecord>> {
        let row: Option<UserRow> = query_as(
            "SELECT id, user_name, profile, created_at, modified_at FROM users WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(self.db().read())
        .await?;
        row.map(user_from_row).transpose()
    }

    /// Replaces the profile and returns the updated record.
    pub async fn update_profile(
        &self,
        id: &UserId,
        profile: &UserProfile,
        at: OffsetDateTime,
    ) -> Result<UserRecord> {
        let mut tx = self.db().write().begin().await?;
        let row: Option<UserRow> = query_as(
            "UPDATE users SET profile = $2, modified_at = $3 WHERE id = $1 \
             RETURNING id, user_name, profile, created_at, modified_at",
        )
        .bind(id.as_str())
        .bind(to_text(profile)?)
        .bind(to_millis(at))
        .fetch_optional(&mut *tx)
        .await?;
        let user = row
            .map(user_from_row)
            .transpose()?
            .ok_or(StoreError::Missing("user"))?;
        self.commit_with_events(tx, id, EventKind::User, &[id.as_str()], at)
            .await?;
        Ok(user)
    }

    /// Records that the user is customer `customer` at `back_office`.
    pub async fn link_back_office(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        customer: &BoRef,
        at: OffsetDateTime,
    ) -> Result<()> {
        query(
            "INSERT INTO user_back_offices (user_id, back_office_id, customer_id_bo, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, back_office_id) DO UPDATE SET customer_id_bo = excluded.customer_id_bo",
        )
        .bind(user.as_str())
        .bind(back_office.as_str())
        .bind(customer.as_str())
        .bind(to_millis(at))
        .execute(self.db().write())
        .await?;
        Ok(())
    }

    /// Every back office where the user is a customer, in back-office id order.
    pub async fn back_office_links(&self, user: &UserId) -> Result<Vec<BackOfficeLink>> {
        let rows: Vec<(String, String)> = query_as(
            "SELECT back_office_id, customer_id_bo FROM user_back_offices WHERE user_id = $1 ORDER BY back_office_id",
        )
        .bind(user.as_str())
        .fetch_all(self.db().read())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(bo, customer)| BackOfficeLink {
                back_office_id: BackOfficeId::from_trusted(bo),
                customer_id_bo: BoRef(customer),
            })
            .collect())
    }
}
