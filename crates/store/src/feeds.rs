//! Following back offices' own changes: how far each back office's change feed has been applied, or when
//! its customers were last refreshed on schedule, and the lease that makes one node at a time do it.

use crate::{Result, Store};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as};
use time::OffsetDateTime;

/// Where following a back office stands, for the node holding its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPosition {
    /// Every feed entry up to this number is applied.
    pub last_seq: i64,
    /// When a scheduled refresh of all its customers last finished.
    pub refreshed_at: Option<OffsetDateTime>,
}

impl Store {
    /// Takes (or keeps) the lease on following `back_office` for `node` until `until`, unless another
    /// node holds it; where following stands when it is this node's.
    pub async fn lease_feed(
        &self,
        back_office: &BackOfficeId,
        node: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Option<FeedPosition>> {
        let mut tx = self.db.write().begin().await?;
        query(
            "INSERT INTO back_office_feeds (back_office_id, last_seq) VALUES ($1, 0) \
             ON CONFLICT (back_office_id) DO NOTHING",
        )
        .bind(back_office.as_str())
        .execute(&mut *tx)
        .await?;
        let row: Option<(i64, Option<i64>)> = query_as(
            "UPDATE back_office_feeds SET leased_by = $2, lease_until = $3 WHERE back_office_id = $1 \
             AND (leased_by IS NULL OR leased_by = $2 OR lease_until < $4) RETURNING last_seq, refreshed_at",
        )
        .bind(back_office.as_str())
        .bind(node)
        .bind(to_millis(until))
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|(last_seq, refreshed)| FeedPosition {
            last_seq,
            refreshed_at: refreshed.map(from_millis),
        }))
    }

    /// Records that feed entries up to `last_seq` are applied; false when `node` no longer holds a live
    /// lease at `now` (another node may have taken over, and will apply them itself).
    pub async fn advance_feed(
        &self,
        back_office: &BackOfficeId,
        node: &str,
        last_seq: i64,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = query(
            "UPDATE back_office_feeds SET last_seq = $3 WHERE back_office_id = $1 AND leased_by = $2 \
             AND last_seq < $3 AND lease_until >= $4",
        )
        .bind(back_office.as_str())
        .bind(node)
        .bind(last_seq)
        .bind(to_millis(now))
        .execute(self.db.write())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that a scheduled refresh of `back_office`'s customers finished at `at`.
    pub async fn feed_refreshed(
        &self,
        back_office: &BackOfficeId,
        node: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        query(
            "UPDATE back_office_feeds SET refreshed_at = $3 WHERE back_office_id = $1 AND leased_by = $2",
        )
        .bind(back_office.as_str())
        .bind(node)
        .bind(to_millis(at))
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// The user who is `customer` at `back_office`, if bankgate knows one.
    pub async fn user_of_customer(
        &self,
        back_office: &BackOfficeId,
        customer: &BoRef,
    ) -> Result<Option<UserId>> {
        let row: Option<(String,)> = query_as(
            "SELECT user_id FROM user_back_offices WHERE back_office_id = $1 AND customer_id_bo = $2",
        )
        .bind(back_office.as_str())
        .bind(customer.as_str())
        .fetch_optional(self.db.read())
        .await?;
        Ok(row.map(|(user,)| UserId::from_trusted(user)))
    }

    /// Up to `limit` users who are customers of `back_office`, after user `after` in id order.
    pub async fn customers_of(
        &self,
        back_office: &BackOfficeId,
        after: Option<&UserId>,
        limit: u32,
    ) -> Result<Vec<UserId>> {
        let rows: Vec<(String,)> = query_as(
            "SELECT user_id FROM user_back_offices WHERE back_office_id = $1 AND user_id > $2 \
             ORDER BY user_id LIMIT $3",
        )
        .bind(back_office.as_str())
        .bind(after.map_or("", UserId::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.db.read())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user,)| UserId::from_trusted(user))
            .collect())
    }
}
