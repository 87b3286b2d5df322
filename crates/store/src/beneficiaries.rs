//! Beneficiaries are bankgate's own records: the user's payment destinations, kept whole as JSON that the
//! beneficiaries service defines and validates. A deletion is queued (undoable) and only marks the row.

use crate::events::EventKind;
use crate::{Result, Store};
use bankgate_domain::ids::{BeneficiaryId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBeneficiaryRecord {
    pub id: BeneficiaryId,
    pub user_id: UserId,
    pub data: String,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeneficiaryRecord {
    pub id: BeneficiaryId,
    pub user_id: UserId,
    pub data: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

type Row = (String, String, String, i64, i64, Option<i64>);
const COLUMNS: &str = "id, user_id, data, created_at, updated_at, deleted_at";

fn from_row((id, user, data, created, updated, deleted): Row) -> BeneficiaryRecord {
    BeneficiaryRecord {
        id: BeneficiaryId::from_trusted(id),
        user_id: UserId::from_trusted(user),
        data,
        created_at: from_millis(created),
        updated_at: from_millis(updated),
        deleted_at: deleted.map(from_millis),
    }
}

impl Store {
    pub async fn create_beneficiary(
        &self,
        new: &NewBeneficiaryRecord,
    ) -> Result<BeneficiaryRecord> {
        let at = to_millis(new.at);
        let mut tx = self.db.write().begin().await?;
        query(
            "INSERT INTO beneficiaries (id, user_id, data, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(new.id.as_str())
        .bind(new.user_id.as_str())
        .bind(&new.data)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        self.beneficiary_changed(tx, &new.user_id, &new.id, true, new.at)
            .await?;
        Ok(BeneficiaryRecord {
            id: new.id.clone(),
            user_id: new.user_id.clone(),
            data: new.data.clone(),
            created_at: new.at,
            updated_at: new.at,
            deleted_at: None,
        })
    }

    /// The user's beneficiaries that are not deleted, oldest first.
    pub async fn list_beneficiaries(&self, user: &UserId) -> Result<Vec<BeneficiaryRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM beneficiaries WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        );
        let rows: Vec<Row> = query_as(&sql)
            .bind(user.as_str())
            .fetch_all(self.db.read())
            .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// One of the user's beneficiaries that is not deleted.
    pub async fn get_beneficiary(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
    ) -> Result<Option<BeneficiaryRecord>> {
        let found = self.beneficiary_as_kept(user, id).await?;
        Ok(found.filter(|b| b.deleted_at.is_none()))
    }

    /// One of the user's beneficiaries, deleted or not (a push of its deletion shows it).
    pub async fn beneficiary_as_kept(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
    ) -> Result<Option<BeneficiaryRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM beneficiaries WHERE id = $1 AND user_id = $2");
        let row: Option<Row> = query_as(&sql)
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(self.db.read())
            .await?;
        Ok(row.map(from_row))
    }

    /// Replaces the data of one of the user's live beneficiaries; false when there is none.
    pub async fn update_beneficiary(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
        data: &str,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.db.write().begin().await?;
        let updated = query(
            "UPDATE beneficiaries SET data = $1, updated_at = $2 WHERE id = $3 AND user_id = $4 AND deleted_at IS NULL",
        )
        .bind(data)
        .bind(to_millis(at))
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        self.beneficiary_changed(tx, user, id, updated, at).await?;
        Ok(updated)
    }

    /// Marks the beneficiary deleted (a queued deletion executing). Deleting twice changes nothing.
    pub async fn delete_beneficiary(
        &self,
        user: &UserId,
        id: &BeneficiaryId,
        at: OffsetDateTime,
    ) -> Result<()> {
        let mut tx = self.db.write().begin().await?;
        let deleted = query("UPDATE beneficiaries SET deleted_at = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL")
            .bind(to_millis(at))
            .bind(id.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        self.beneficiary_changed(tx, user, id, deleted, at).await
    }

    /// Commits a beneficiary write, with its event when it changed something.
    async fn beneficiary_changed(
        &self,
        tx: bankgate_db::Tx,
        user: &UserId,
        id: &BeneficiaryId,
        changed: bool,
        at: OffsetDateTime,
    ) -> Result<()> {
        let subjects: &[&str] = if changed { &[id.as_str()] } else { &[] };
        self.commit_with_events(tx, user, EventKind::Beneficiaries, subjects, at)
            .await
    }
}
