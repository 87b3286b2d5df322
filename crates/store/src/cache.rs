//! The one mechanism behind the middleware's copy of back-office objects. Each cache table has the same
//! core columns (id, user_id, back_office_id, id_bo, data, user_data, refreshed_at) plus a few of its own.
//! [`Store::record_objects`] upserts what a back office just reported, assigning bankgate ids to new
//! objects, and skips the write for copies that are unchanged and were confirmed recently, so repeated
//! reads do not turn into writes. A copy whose data changed (or a new one) gets an event in the user's
//! log, in the same transaction, so connected apps see it: a copy only re-confirmed gets none.
//!
//! Whether data changed is judged against what this node last saw (its memo, or the rows it read): on
//! several nodes two may both see the same change and both append an event for it. That is harmless (an
//! event names the object, which is sent as it then stands); missing one would not be.

use crate::alerts::NewLine;
use crate::events::{append_events, EventKind};
use crate::{Result, Store, REFRESH_REWRITE_MS};
use bankgate_domain::ids::{BackOfficeId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, query_as, Any, Row};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A cache table and its own columns.
pub(crate) struct CacheTable {
    pub name: &'static str,
    /// Columns beyond the core ones, in the order [`Incoming::extras`] gives their values.
    pub extra_columns: &'static [&'static str],
    pub new_id: fn() -> String,
    /// The event a changed copy appends.
    pub event: EventKind,
    /// What else storing an object for the first time does.
    pub on_new: OnNew,
}

/// What storing an object for the first time does besides its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnNew {
    Nothing,
    /// Send the alerts a new transaction fires (its first extra column is its account).
    SendTransactionAlerts,
}

/// A value for one of a table's own columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Extra {
    Text(String),
    Int(i64),
}

/// One object as the back office reported it, serialized.
pub(crate) struct Incoming {
    pub id_bo: String,
    pub data: String,
    pub extras: Vec<Extra>,
}

/// What the store holds for an object after recording it.
pub(crate) struct Recorded {
    pub id: String,
    pub user_data: String,
    /// This call stored the object for the first time (on any node).
    pub is_new: bool,
}

/// An object to upsert: its index in the incoming list, and whether its data differs from the copy seen.
struct Write {
    index: usize,
    changed: bool,
}

/// A stored copy: bankgate id, data, user data, refreshed_at (ms).
type Existing = (String, String, String, i64);

/// Key of a memoized copy: table, back office, back-office id.
type CopyKey = (&'static str, String, String);

pub(crate) type CopyMemo = crate::memo::Memo<CopyKey, Existing>;

/// Most copies a node memoizes before starting over.
const COPY_MEMO_CAPACITY: usize = 200_000;

pub(crate) fn new_copy_memo() -> CopyMemo {
    crate::memo::Memo::new(
        std::time::Duration::from_millis(REFRESH_REWRITE_MS as u64),
        COPY_MEMO_CAPACITY,
    )
}

fn copy_key(table: &CacheTable, back_office: &BackOfficeId, id_bo: &str) -> CopyKey {
    (
        table.name,
        back_office.as_str().to_owned(),
        id_bo.to_owned(),
    )
}

impl Store {
    /// Records `objects` of one back office for `user`; returns, in the same order, each object's bankgate
    /// id and user data.
    pub(crate) async fn record_objects(
        &self,
        table: &CacheTable,
        user: &UserId,
        back_office: &BackOfficeId,
        objects: &[Incoming],
        at: OffsetDateTime,
    ) -> Result<Vec<Recorded>> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let now = to_millis(at);
        let existing = match self.memoized_copies(table, back_office, objects) {
            Some(copies) => copies,
            None => self.existing_objects(table, back_office, objects).await?,
        };
        let mut recorded = Vec::with_capacity(objects.len());
        let mut to_write = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            match existing.get(&object.id_bo) {
                Some((id, data, user_data, refreshed))
                    if *data == object.data && now - refreshed < REFRESH_REWRITE_MS =>
                {
                    recorded.push(Some(Recorded {
                        id: id.clone(),
                        user_data: user_data.clone(),
                        is_new: false,
                    }));
                }
                known => {
                    recorded.push(None);
                    let changed = known.is_none_or(|(_, data, _, _)| *data != object.data);
                    to_write.push(Write { index: i, changed });
                }
            }
        }
        if !to_write.is_empty() {
            let written = self
                .upsert_objects(table, user, back_office, objects, &to_write, at)
                .await?;
            for (i, row) in to_write.into_iter().map(|w| w.index).zip(written) {
                let copy = (
                    row.id.clone(),
                    objects[i].data.clone(),
                    row.user_data.clone(),
                    now,
                );
                self.copies
                    .insert(copy_key(table, back_office, &objects[i].id_bo), copy);
                recorded[i] = Some(row);
            }
        }
        Ok(recorded.into_iter().flatten().collect())
    }

    /// The stored copies of `objects` from this node's memo, if it has every one of them.
    fn memoized_copies(
        &self,
        table: &CacheTable,
        back_office: &BackOfficeId,
        objects: &[Incoming],
    ) -> Option<HashMap<String, Existing>> {
        objects
            .iter()
            .map(|o| {
                self.copies
                    .get(&copy_key(table, back_office, &o.id_bo))
                    .map(|copy| (o.id_bo.clone(), copy))
            })
            .collect()
    }

    /// Forgets this node's memo of a table's copies, after user data in it changed.
    pub(crate) fn forget_copies(&self, table: &CacheTable) {
        self.copies.retain(|key, _| key.0 != table.name);
    }

    async fn existing_objects(
        &self,
        table: &CacheTable,
        back_office: &BackOfficeId,
        objects: &[Incoming],
    ) -> Result<HashMap<String, (String, String, String, i64)>> {
        let placeholders: Vec<String> = (0..objects.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id_bo, id, data, user_data, refreshed_at FROM {} WHERE back_office_id = $1 AND id_bo IN ({})",
            table.name,
            placeholders.join(", ")
        );
        let mut q = query(&sql).bind(back_office.as_str());
        for object in objects {
            q = q.bind(object.id_bo.as_str());
        }
        let rows = q.fetch_all(self.db().read()).await?;
        rows.iter()
            .map(|row| {
                let existing: Existing = (
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                );
                Ok((row.try_get::<String, _>(0)?, existing))
            })
            .collect()
    }

    async fn upsert_objects(
        &self,
        table: &CacheTable,
        user: &UserId,
        back_office: &BackOfficeId,
        objects: &[Incoming],
        which: &[Write],
        at: OffsetDateTime,
    ) -> Result<Vec<Recorded>> {
        let sql = upsert_sql(table);
        let mut tx = self.db().write().begin().await?;
        let mut written = Vec::with_capacity(which.len());
        for write in which {
            let object = &objects[write.index];
            let new_id = (table.new_id)();
            let mut q = query_as::<Any, (String, String)>(&sql)
                .bind(new_id.as_str())
                .bind(user.as_str())
                .bind(back_office.as_str())
                .bind(object.id_bo.as_str())
                .bind(object.data.as_str())
                .bind(to_millis(at));
            for extra in &object.extras {
                q = match extra {
                    Extra::Text(s) => q.bind(s.clone()),
                    Extra::Int(n) => q.bind(*n),
                };
            }
            let (id, user_data) = q.fetch_one(&mut *tx).await?;
            // An existing row keeps its id: getting ours back means the row is new.
            let is_new = id == new_id;
            written.push(Recorded {
                id,
                user_data,
                is_new,
            });
        }
        let changed: Vec<&str> = which
            .iter()
            .zip(&written)
            .filter(|(write, row)| write.changed || row.is_new)
            .map(|(_, row)| row.id.as_str())
            .collect();
        let events: Vec<(EventKind, &str)> = changed.iter().map(|id| (table.event, *id)).collect();
        append_events(&mut tx, self.db().engine(), user, &events, to_millis(at)).await?;
        let alerts = match table.on_new {
            OnNew::Nothing => 0,
            OnNew::SendTransactionAlerts => {
                let lines = new_lines(objects, which, &written);
                self.send_transaction_alerts(&mut tx, user, &lines, at)
                    .await?
            }
        };
        tx.commit().await?;
        if !changed.is_empty() || alerts > 0 {
            self.announce(user);
        }
        Ok(written)
    }
}

/// The objects of a write that were stored for the first time, with their account (first extra column).
fn new_lines<'a>(
    objects: &'a [Incoming],
    which: &[Write],
    written: &'a [Recorded],
) -> Vec<NewLine<'a>> {
    which
        .iter()
        .zip(written)
        .filter(|(_, row)| row.is_new)
        .filter_map(|(write, row)| {
            let object = &objects[write.index];
            match object.extras.first() {
                Some(Extra::Text(account_id)) => Some(NewLine {
                    id: row.id.as_str(),
                    account_id: account_id.as_str(),
                    data: object.data.as_str(),
                }),
                _ => None,
            }
        })
        .collect()
}

fn upsert_sql(table: &CacheTable) -> String {
    let extra_cols: String = table
        .extra_columns
        .iter()
        .map(|c| format!(", {c}"))
        .collect();
    let extra_vals: String = (0..table.extra_columns.len())
        .map(|i| format!(", ${}", i + 7))
        .collect();
    let extra_sets: String = table
        .extra_columns
        .iter()
        .map(|c| format!(", {c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {t} (id, user_id, back_office_id, id_bo, data, refreshed_at, user_data{extra_cols}) \
         VALUES ($1, $2, $3, $4, $5, $6, '{{}}'{extra_vals}) \
         ON CONFLICT (back_office_id, id_bo) DO UPDATE SET data = excluded.data, \
         refreshed_at = excluded.refreshed_at{extra_sets} RETURNING id, user_data",
        t = table.name
    )
}

/// Reads `refreshed_at` back as a time.
pub(crate) fn refreshed(ms: i64) -> OffsetDateTime {
    from_millis(ms)
}
