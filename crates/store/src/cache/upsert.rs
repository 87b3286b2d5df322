//! Writing copies of back-office objects: many rows per statement. A feed batch or a statement page
//! records dozens of lines at once, and on PostgreSQL each statement is a round trip; so the rows go in
//! one `INSERT ... ON CONFLICT DO UPDATE` per round (PostgreSQL refuses a statement that would update one
//! row twice, so an object named twice goes in a second round, after the first) and per chunk of
//! [`ROWS_PER_STATEMENT`].

use super::{CacheTable, Extra, Incoming};
use crate::{Result, VERSION_TRUST_MS};
use bankgate_db::Conn;
use bankgate_domain::ids::{BackOfficeId, UserId};
use sqlx::{query_as, Any};
use std::collections::HashMap;

/// Rows per statement: far below both engines' limits on parameters (6 per transaction row).
const ROWS_PER_STATEMENT: usize = 500;

/// An object to write, with the bankgate id it gets if it is new.
pub(super) struct NewRow<'a> {
    pub object: &'a Incoming,
    pub new_id: String,
}

/// Writes `rows`, each unless the store holds a newer version of its object. For each row, in order, the
/// bankgate id and user data the store now holds for it; None where a newer copy was kept.
pub(super) async fn upsert_rows(
    conn: &mut Conn,
    table: &CacheTable,
    user: &UserId,
    back_office: &BackOfficeId,
    rows: &[NewRow<'_>],
    now: i64,
) -> Result<Vec<Option<(String, String)>>> {
    let mut answers: Vec<Option<(String, String)>> = vec![None; rows.len()];
    for round in rounds(rows) {
        for chunk in round.chunks(ROWS_PER_STATEMENT) {
            let sql = upsert_sql(table, chunk.len());
            let mut statement = query_as::<Any, (String, String, String)>(&sql)
                .bind(user.as_str())
                .bind(back_office.as_str())
                .bind(now);
            for &i in chunk {
                let row = &rows[i];
                statement = statement
                    .bind(row.new_id.as_str())
                    .bind(row.object.id_bo.as_str())
                    .bind(row.object.data.as_str())
                    .bind(row.object.version);
                for extra in &row.object.extras {
                    statement = match extra {
                        Extra::Text(s) => statement.bind(s.as_str()),
                        Extra::Int(n) => statement.bind(*n),
                    };
                }
            }
            let mut written: HashMap<String, (String, String)> = statement
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(|(id_bo, id, user_data)| (id_bo, (id, user_data)))
                .collect();
            for &i in chunk {
                answers[i] = written.remove(&rows[i].object.id_bo);
            }
        }
    }
    Ok(answers)
}

/// The rows' indexes by round: the first naming of each object in the first round, a second naming of
/// one in the second, and so on, each round in the rows' order.
fn rounds(rows: &[NewRow<'_>]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let naming = seen.entry(row.object.id_bo.as_str()).or_default();
        if rounds.len() <= *naming {
            rounds.push(Vec::new());
        }
        rounds[*naming].push(i);
        *naming += 1;
    }
    rounds
}

/// The upsert of `rows` objects: $1 user, $2 back office, $3 the time, then per row its new id, its
/// back-office id, data, version and the table's own columns.
fn upsert_sql(table: &CacheTable, rows: usize) -> String {
    let extra_cols: String = table
        .extra_columns
        .iter()
        .map(|c| format!(", {c}"))
        .collect();
    let per_row = 4 + table.extra_columns.len();
    let values = (0..rows)
        .map(|row| {
            let p = 4 + row * per_row;
            let extras: String = (0..table.extra_columns.len())
                .map(|i| format!(", ${}", p + 4 + i))
                .collect();
            format!(
                "(${}, $1, $2, ${}, ${}, $3, ${}, '{{}}'{extras})",
                p,
                p + 1,
                p + 2,
                p + 3
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let extra_sets: String = table
        .extra_columns
        .iter()
        .map(|c| format!(", {c} = excluded.{c}"))
        .collect();
    // A lower version than the stored one is refused (no row comes back) while the stored copy is
    // younger than VERSION_TRUST_MS.
    format!(
        "INSERT INTO {t} (id, user_id, back_office_id, id_bo, data, refreshed_at, bo_version, \
         user_data{extra_cols}) VALUES {values} \
         ON CONFLICT (back_office_id, id_bo) DO UPDATE SET data = excluded.data, \
         refreshed_at = excluded.refreshed_at, bo_version = excluded.bo_version{extra_sets} \
         WHERE excluded.bo_version >= {t}.bo_version \
         OR {t}.refreshed_at < excluded.refreshed_at - {VERSION_TRUST_MS} \
         RETURNING id_bo, id, user_data",
        t = table.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(id_bo: &str) -> Incoming {
        Incoming {
            id_bo: id_bo.into(),
            data: "{}".into(),
            version: 1,
            extras: Vec::new(),
        }
    }

    #[test]
    fn an_object_named_again_waits_for_the_next_round() {
        let objects: Vec<Incoming> = ["a", "b", "a", "c", "a", "b"]
            .into_iter()
            .map(incoming)
            .collect();
        let rows: Vec<NewRow> = objects
            .iter()
            .map(|object| NewRow {
                object,
                new_id: String::new(),
            })
            .collect();
        assert_eq!(rounds(&rows), vec![vec![0, 1, 3], vec![2, 5], vec![4]]);
    }
}
