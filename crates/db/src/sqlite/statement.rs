//! One statement text run through rusqlite: the `Any` driver's arguments bound as sqlx's SQLite driver
//! binds them (`$N` and `?N` name the N-th argument, a bare `?` the next one, a missing one is NULL),
//! and each row read into an `Any` row the way that driver reads it (by the value's own type: INTEGER
//! as a 64-bit integer, REAL as a double, TEXT, BLOB, NULL).

use super::Results;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Batch, Connection, Statement};
use sqlx::Either;
use sqlx_core::any::{
    AnyColumn, AnyQueryResult, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind,
};
use sqlx_core::ext::ustr::UStr;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// What is known about a statement text once it has been run.
pub(super) struct StatementShape {
    /// It holds more than one statement (run one by one, without the statement cache).
    several: bool,
    /// Its result columns, shared by all its rows, once a run has named them.
    columns: Option<ResultColumns>,
}

#[derive(Clone)]
struct ResultColumns {
    by_name: Arc<sqlx_core::HashMap<UStr, usize>>,
    columns: Vec<AnyColumn>,
}

/// Why a run failed, and whether any of its statements had already run (a text of several may fail
/// part-way; running it again would repeat what ran).
pub(super) struct Failure {
    pub(super) error: rusqlite::Error,
    pub(super) nothing_ran: bool,
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Failure {
        Failure {
            error,
            nothing_ran: true,
        }
    }
}

/// Runs `sql` with `arguments` and gathers what it returns.
pub(super) fn run(
    db: &Connection,
    shapes: &mut HashMap<Box<str>, StatementShape>,
    sql: &str,
    arguments: &[AnyValueKind<'_>],
) -> Result<Results, Failure> {
    let mut out = Vec::new();
    let mut unnamed = 0;
    match shapes.get_mut(sql) {
        Some(shape) if !shape.several => {
            let mut statement = db.prepare_cached(sql)?;
            run_one(
                db,
                &mut statement,
                arguments,
                &mut unnamed,
                &mut shape.columns,
                &mut out,
            )?;
        }
        known => {
            // A text not seen before, or one of several statements: each is prepared only once the one
            // before it has run (it may create what the next one uses).
            let first_time = known.is_none();
            let mut ran = 0;
            for statement in Batch::new(db, sql) {
                let mut columns = None;
                statement
                    .and_then(|mut statement| {
                        run_one(
                            db,
                            &mut statement,
                            arguments,
                            &mut unnamed,
                            &mut columns,
                            &mut out,
                        )
                    })
                    .map_err(|error| Failure {
                        error,
                        nothing_ran: ran == 0,
                    })?;
                ran += 1;
            }
            if first_time {
                // Texts built at run time (lists of varying length) would grow this without end.
                if shapes.len() >= super::STATEMENT_CACHE {
                    shapes.clear();
                }
                let shape = StatementShape {
                    several: ran > 1,
                    columns: None,
                };
                shapes.insert(sql.into(), shape);
            }
        }
    }
    Ok(out)
}

fn run_one(
    db: &Connection,
    statement: &mut Statement<'_>,
    arguments: &[AnyValueKind<'_>],
    unnamed: &mut usize,
    known_columns: &mut Option<ResultColumns>,
    out: &mut Results,
) -> rusqlite::Result<()> {
    bind(statement, arguments, unnamed)?;
    let mut rows = statement.raw_query();
    let mut columns: Option<ResultColumns> = None;
    while let Some(row) = rows.next()? {
        // Named once per statement text, checked against the statement as it now runs: a schema change
        // makes SQLite prepare it anew, with columns that may differ.
        let columns = match &mut columns {
            Some(columns) => columns,
            None => {
                let current = match known_columns {
                    Some(known) if same_columns(known, row.as_ref()) => known.clone(),
                    _ => known_columns.insert(result_columns(row.as_ref())).clone(),
                };
                columns.insert(current)
            }
        };
        let mut values = Vec::with_capacity(columns.columns.len());
        let mut row_columns = columns.columns.clone();
        for (i, column) in row_columns.iter_mut().enumerate() {
            let kind = any_value(row.get_ref(i)?)?;
            column.type_info = AnyTypeInfo {
                kind: type_of(&kind),
            };
            values.push(AnyValue { kind });
        }
        out.push(Either::Right(AnyRow {
            column_names: Arc::clone(&columns.by_name),
            columns: row_columns,
            values,
        }));
    }
    drop(rows);
    out.push(Either::Left(AnyQueryResult {
        rows_affected: db.changes(),
        last_insert_id: Some(db.last_insert_rowid()),
    }));
    Ok(())
}

fn same_columns(known: &ResultColumns, statement: &Statement<'_>) -> bool {
    known.columns.len() == statement.column_count()
        && known.columns.iter().all(|c| {
            statement
                .column_name(c.ordinal)
                .is_ok_and(|name| name == &*c.name)
        })
}

fn bind(
    statement: &mut Statement<'_>,
    arguments: &[AnyValueKind<'_>],
    unnamed: &mut usize,
) -> rusqlite::Result<()> {
    for index in 1..=statement.parameter_count() {
        let n = match statement.parameter_name(index) {
            Some(name) => name
                .strip_prefix('$')
                .or_else(|| name.strip_prefix('?'))
                .and_then(|digits| digits.parse::<usize>().ok())
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?,
            None => {
                *unnamed += 1;
                *unnamed
            }
        };
        // An argument not given stays NULL, as in SQLite and sqlx.
        if let Some(value) = n.checked_sub(1).and_then(|i| arguments.get(i)) {
            statement.raw_bind_parameter(index, sql_value(value)?)?;
        }
    }
    Ok(())
}

fn sql_value<'a>(value: &'a AnyValueKind<'_>) -> rusqlite::Result<ToSqlOutput<'a>> {
    Ok(match value {
        AnyValueKind::Null(_) => ToSqlOutput::Owned(Value::Null),
        AnyValueKind::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        AnyValueKind::SmallInt(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
        AnyValueKind::Integer(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
        AnyValueKind::BigInt(i) => ToSqlOutput::Owned(Value::Integer(*i)),
        AnyValueKind::Real(f) => ToSqlOutput::Owned(Value::Real(f64::from(*f))),
        AnyValueKind::Double(f) => ToSqlOutput::Owned(Value::Real(*f)),
        AnyValueKind::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        AnyValueKind::Blob(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        other => {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                format!("no SQLite type for {other:?}").into(),
            ))
        }
    })
}

fn result_columns(statement: &Statement<'_>) -> ResultColumns {
    let columns: Vec<AnyColumn> = statement
        .column_names()
        .into_iter()
        .enumerate()
        .map(|(ordinal, name)| AnyColumn {
            ordinal,
            name: UStr::new(name),
            type_info: AnyTypeInfo {
                kind: AnyTypeInfoKind::Null,
            },
        })
        .collect();
    let by_name = columns
        .iter()
        .map(|c| (c.name.clone(), c.ordinal))
        .collect();
    ResultColumns {
        by_name: Arc::new(by_name),
        columns,
    }
}

fn any_value(value: ValueRef<'_>) -> rusqlite::Result<AnyValueKind<'static>> {
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(f) => AnyValueKind::Double(f),
        ValueRef::Text(bytes) => AnyValueKind::Text(Cow::Owned(
            std::str::from_utf8(bytes)
                .map_err(rusqlite::Error::Utf8Error)?
                .to_owned(),
        )),
        ValueRef::Blob(bytes) => AnyValueKind::Blob(Cow::Owned(bytes.to_vec())),
    })
}

fn type_of(value: &AnyValueKind<'_>) -> AnyTypeInfoKind {
    match value {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}
