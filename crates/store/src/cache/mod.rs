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
//!
//! Copies are ordered by the back office's own version of each object (when it last changed there), not
//! by when bankgate happened to write them: a snapshot read earlier but written later (a slow read on one
//! node racing the change feed on another) is refused rather than put back over a newer one, and the
//! caller gets the newer copy. See [`crate::VERSION_TRUST_MS`] for a back office whose clock steps back.

mod upsert;

use crate::alerts::NewLine;
use crate::events::{append_events, EventKind};
use crate::{Result, Store, REFRESH_REWRITE_MS};
use bankgate_domain::ids::{BackOfficeId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
use sqlx::{query, Row};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A cache table and its own columns.
pub(crate) struct CacheTable {
    pub name: &'static str,
    /// Columns beyond the core ones, in the order [`Incoming::extras`] gives their values.
    pub extra_columns: &'static [&'static str],
    pub new_id: fn() -> String,
    /// The event a changed copy appends.
    pub changed_event: EventKind,
    /// The event a copy stored for the first time appends.
    pub new_event: EventKind,
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
    /// The back office's version of the object: when it last changed there (ms).
    pub version: i64,
    pub extras: Vec<Extra>,
}

/// What the store holds for an object after recording it.
pub(crate) struct Recorded {
    pub id: String,
    pub user_data: String,
    /// A newer copy the store already held and kept, refusing the one offered.
    pub kept: Option<Kept>,
}

/// A stored copy kept over an older one offered: its data and when it was last confirmed (ms).
pub(crate) struct Kept {
    data: String,
    refreshed_at: i64,
}

impl Recorded {
    /// The object as the store now holds it: the one offered, unless a newer copy was kept.
    pub fn object<T: serde::de::DeserializeOwned + Clone>(&self, offered: &T) -> Result<T> {
        match &self.kept {
            Some(kept) => crate::json::from_text(&kept.data),
            None => Ok(offered.clone()),
        }
    }

    /// When the object as the store holds it was last confirmed: `at` for the one offered.
    pub fn refreshed_at(&self, at: OffsetDateTime) -> OffsetDateTime {
        self.kept
            .as_ref()
            .map_or(at, |kept| from_millis(kept.refreshed_at))
    }
}

/// An object to upsert: its index in the incoming list, and whether its data differs from the copy seen.
struct Write {
    index: usize,
    changed: bool,
}

/// What one upsert left in the store.
struct Upserted {
    copy: Existing,
    /// This call stored the object for the first time (on any node).
    is_new: bool,
    /// The store held a newer version and kept it.
    refused: bool,
}

/// A stored copy as this node last saw it.
#[derive(Debug, Clone)]
pub(crate) struct Existing {
    id: String,
    data: String,
    user_data: String,
    refreshed_at: i64,
}

impl Existing {
    /// The same object, confirmed less than [`REFRESH_REWRITE_MS`] before `now`: nothing to write. (The
    /// data holds the object's back-office version, so a change and its revert differ from this copy.)
    fn confirms(&self, object: &Incoming, now: i64) -> bool {
        self.data == object.data && now - self.refreshed_at < REFRESH_REWRITE_MS
    }

    fn changed_by(&self, object: &Incoming) -> bool {
        self.data != object.data
    }
}

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
                Some(copy) if copy.confirms(object, now) => {
                    recorded.push(Some(Recorded {
                        id: copy.id.clone(),
                        user_data: copy.user_data.clone(),
                        kept: None,
                    }));
                }
                known => {
                    recorded.push(None);
                    let changed = known.is_none_or(|copy| copy.changed_by(object));
                    to_write.push(Write { index: i, changed });
                }
            }
        }
        if !to_write.is_empty() {
            let written = self
                .upsert_objects(table, user, back_office, objects, &to_write, at)
                .await?;
            for (i, (row, copy)) in to_write.into_iter().map(|w| w.index).zip(written) {
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
    ) -> Result<HashMap<String, Existing>> {
        let sql = format!(
            "SELECT id_bo, {STORED_COPY} FROM {} WHERE back_office_id = $1 AND id_bo IN ({})",
            table.name,
            crate::parameter_list(2, objects.len())
        );
        let mut q = query(&sql).bind(back_office.as_str());
        for object in objects {
            q = q.bind(object.id_bo.as_str());
        }
        let rows = q.fetch_all(self.db().read()).await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<String, _>(0)?, stored_copy(row, 1)?)))
            .collect()
    }

    /// Writes the objects `which` names, each unless the store holds a newer version of it; returns what
    /// the store holds for each afterwards.
    async fn upsert_objects(
        &self,
        table: &CacheTable,
        user: &UserId,
        back_office: &BackOfficeId,
        objects: &[Incoming],
        which: &[Write],
        at: OffsetDateTime,
    ) -> Result<Vec<(Recorded, Existing)>> {
        let now = to_millis(at);
        let mut tx = self.db().write().begin().await?;
        let rows: Vec<upsert::NewRow> = which
            .iter()
            .map(|write| upsert::NewRow {
                object: &objects[write.index],
                new_id: (table.new_id)(),
            })
            .collect();
        let returned = upsert::upsert_rows(&mut tx, table, user, back_office, &rows, now).await?;
        let mut written = Vec::with_capacity(which.len());
        for (row, returned) in rows.iter().zip(returned) {
            let upserted = match returned {
                Some((id, user_data)) => Upserted {
                    // An existing row keeps its id: getting ours back means the row is new.
                    is_new: id == row.new_id,
                    copy: Existing {
                        id,
                        data: row.object.data.clone(),
                        user_data,
                        refreshed_at: now,
                    },
                    refused: false,
                },
                None => Upserted {
                    copy: stored_copy_of(&mut tx, table, back_office, &row.object.id_bo).await?,
                    is_new: false,
                    refused: true,
                },
            };
            written.push(upserted);
        }
        let events: Vec<(EventKind, &str)> = which
            .iter()
            .zip(&written)
            .filter(|(write, row)| !row.refused && (write.changed || row.is_new))
            .map(|(_, row)| {
                let kind = match row.is_new {
                    true => table.new_event,
                    false => table.changed_event,
                };
                (kind, row.copy.id.as_str())
            })
            .collect();
        append_events(&mut tx, self.db().engine(), user, &events, now).await?;
        let alerts = match table.on_new {
            OnNew::Nothing => 0,
            OnNew::SendTransactionAlerts => {
                let lines = new_lines(objects, which, &written);
                self.send_transaction_alerts(&mut tx, user, &lines, at)
                    .await?
            }
        };
        tx.commit().await?;
        if !events.is_empty() || alerts > 0 {
            self.announce(user);
        }
        Ok(written
            .into_iter()
            .map(|row| {
                let recorded = Recorded {
                    id: row.copy.id.clone(),
                    user_data: row.copy.user_data.clone(),
                    kept: row.refused.then(|| Kept {
                        data: row.copy.data.clone(),
                        refreshed_at: row.copy.refreshed_at,
                    }),
                };
                (recorded, row.copy)
            })
            .collect())
    }
}

/// The columns [`stored_copy`] reads, in its order.
const STORED_COPY: &str = "id, data, user_data, refreshed_at";

/// A stored copy from a row holding [`STORED_COPY`] from column `first` on.
fn stored_copy(row: &sqlx::any::AnyRow, first: usize) -> Result<Existing> {
    Ok(Existing {
        id: row.try_get(first)?,
        data: row.try_get(first + 1)?,
        user_data: row.try_get(first + 2)?,
        refreshed_at: row.try_get(first + 3)?,
    })
}

/// The copy the store holds of one object, read inside the writing transaction.
async fn stored_copy_of(
    tx: &mut bankgate_db::Tx,
    table: &CacheTable,
    back_office: &BackOfficeId,
    id_bo: &str,
) -> Result<Existing> {
    let sql = format!(
        "SELECT {STORED_COPY} FROM {} WHERE back_office_id = $1 AND id_bo = $2",
        table.name
    );
    let row = query(&sql)
        .bind(back_office.as_str())
        .bind(id_bo)
        .fetch_one(&mut **tx)
        .await?;
    stored_copy(&row, 0)
}

/// The objects of a write that were stored for the first time, with their account (first extra column).
fn new_lines<'a>(
    objects: &'a [Incoming],
    which: &[Write],
    written: &'a [Upserted],
) -> Vec<NewLine<'a>> {
    which
        .iter()
        .zip(written)
        .filter(|(_, row)| row.is_new)
        .filter_map(|(write, row)| {
            let object = &objects[write.index];
            match object.extras.first() {
                Some(Extra::Text(account_id)) => Some(NewLine {
                    id: row.copy.id.as_str(),
                    account_id: account_id.as_str(),
                    data: object.data.as_str(),
                }),
                _ => None,
            }
        })
        .collect()
}

/// Reads `refreshed_at` back as a time.
pub(crate) fn refreshed(ms: i64) -> OffsetDateTime {
    from_millis(ms)
}
