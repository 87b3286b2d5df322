//! Holds: money an accepted operation keeps from its source account until it executes, fails or is
//! cancelled. The back office does not know about them; bankgate subtracts them from the `available`
//! balance it shows and checks new operations against them.
//!
//! Deciding a hold is one guarded UPDATE of the account's running total (`account_holds`), so concurrent
//! acceptances cannot both spend the same money: the row lock (PostgreSQL) or the single writer (SQLite)
//! orders them. The available balance itself comes from the back office, read by the caller after it
//! read the account's hold position. One race matters: an execution that moved the back office's balance
//! and released its hold between the two reads, or after the balance read, so that the balance read may or
//! may not show the debit whose hold is gone. The guard counts what was released after execution since the
//! position was read (`released_minor`) as still held: safe whichever way the balance read fell, and exact
//! when nothing was released. Only a hold this leaves uncovered while something was released (`version`
//! moved) is sent back to read the balance again; one uncovered with nothing released is refused. A
//! release by a node of an older build, which moves `version` but not `released_minor`, sends every
//! acceptance that read the position before it back to read again (`released_count` falls behind
//! `version`), as the older guard did.
//!
//! A hold placed in stand-in (the back office unreachable) also counts against the user's stand-in
//! exposure in that currency (`stand_in_exposure`), bounded the same way by the configured limit, and
//! leaves it when the hold is released.
//!
//! Every account read shows holds, so each node memoizes each user's held amounts. Every change to a
//! user's holds appends an event, and every event of the user (on this node, or relayed from another)
//! drops the memo; its short lifetime covers a relay that lost a notification.

use crate::jobs::Enqueued;
use crate::{Result, Store, StoreError};
use bankgate_db::{Conn, Engine};
use bankgate_domain::ids::{AccountId, OperationId, UserId};
use bankgate_domain::{Currency, Money};
use sqlx::{query, query_as};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long a node trusts its memo of a user's holds without an event (see the module header).
const HELD_MEMO_TTL: Duration = Duration::from_secs(2);
/// Most users whose holds a node memoizes before starting over.
const HELD_MEMO_CAPACITY: usize = 100_000;

pub(crate) type HeldMemo = crate::memo::Memo<UserId, HashMap<AccountId, Money>>;

pub(crate) fn new_held_memo() -> HeldMemo {
    crate::memo::Memo::new(HELD_MEMO_TTL, HELD_MEMO_CAPACITY)
}

/// The hold a new job places on its source account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    pub account_id: AccountId,
    pub amount: Money,
    /// The account's available balance at its back office, read after `position`.
    pub available_at_back_office: Money,
    /// The account's hold position read before the back office's balance.
    pub position: HoldPosition,
    /// Set when the back office could not be asked (stand-in): `available_at_back_office` is then the
    /// last balance it confirmed, and this bounds what the user may have queued that way in all.
    pub stand_in_limit: Option<Money>,
}

/// An account's live holds in total, how many and how much were released after execution (ever): what a
/// balance read after it is judged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HoldPosition {
    pub held_minor: i64,
    pub version: i64,
    pub released_minor: i64,
    pub released_count: i64,
}

/// Why a hold is released: after the operation ran (the back office's balance has moved, or may have)
/// or because it was cancelled before it began (nothing moved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoldRelease {
    AfterExecution,
    Cancelled,
}

impl Store {
    /// Read this before reading the account's balance at the back office, then pass both to the job.
    pub async fn hold_position(&self, account: &AccountId) -> Result<HoldPosition> {
        let row: Option<(i64, i64, i64, i64)> = query_as(
            "SELECT held_minor, version, released_minor, released_count FROM account_holds \
             WHERE account_id = $1",
        )
        .bind(account.as_str())
        .fetch_optional(self.db.read())
        .await?;
        Ok(row.map_or_else(
            HoldPosition::default,
            |(held_minor, version, released_minor, released_count)| HoldPosition {
                held_minor,
                version,
                released_minor,
                released_count,
            },
        ))
    }

    /// What each of the user's accounts has on hold, for accounts with anything held.
    pub async fn held_amounts(&self, user: &UserId) -> Result<HashMap<AccountId, Money>> {
        if let Some(held) = self.held.get(user) {
            return Ok(held);
        }
        let before = self.announcer.announced(user);
        let held = self.read_held_amounts(user).await?;
        // An announcement for the user since the read began may be of a change it missed: then what it
        // read is not kept. Checked
        // under the memo's lock, which the announcement's removal takes after counting.
        self.held.insert_if(user.clone(), held.clone(), || {
            self.announcer.announced(user) == before
        });
        Ok(held)
    }

    async fn read_held_amounts(&self, user: &UserId) -> Result<HashMap<AccountId, Money>> {
        let rows: Vec<(String, String, i64)> = query_as(
            "SELECT account_id, currency, held_minor FROM account_holds WHERE user_id = $1 AND held_minor > 0",
        )
        .bind(user.as_str())
        .fetch_all(self.db.read())
        .await?;
        rows.into_iter()
            .map(|(account, currency, held)| {
                let currency =
                    Currency::parse(&currency).map_err(|_| StoreError::Invalid("currency"))?;
                Ok((AccountId::from_trusted(account), Money::new(held, currency)))
            })
            .collect()
    }
}

/// A hold's amount must be positive and in its account's currency.
pub(crate) fn check_hold(hold: &NewHold) -> Result<()> {
    if hold.amount.currency != hold.available_at_back_office.currency || !hold.amount.is_positive()
    {
        return Err(StoreError::Invalid("hold amount"));
    }
    Ok(())
}

impl NewHold {
    /// Whether the balance seen could cover the hold at all (before what else is held).
    pub(crate) fn may_fit(&self) -> bool {
        self.amount.minor <= self.available_at_back_office.minor
    }
}

/// Why a hold was not placed: the account's releases since its position was read (`version` moved) mean
/// its balance must be read again; otherwise the money is not there.
pub(crate) async fn refusal_of(conn: &mut Conn, hold: &NewHold) -> Result<Enqueued> {
    let version: Option<(i64,)> =
        query_as("SELECT version FROM account_holds WHERE account_id = $1")
            .bind(hold.account_id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let version = version.map_or(0, |(v,)| v);
    Ok(if version != hold.position.version {
        Enqueued::StaleBalance
    } else {
        Enqueued::InsufficientFunds
    })
}

/// The guarded upsert that places a hold on its account's total (see the module header), for the
/// general path and PostgreSQL's one-statement acceptance alike. Its parameters, `$1` to `$8`: the
/// account, its user, the currency, the amount, the position's `released_minor`, the balance seen at the
/// back office, the position's `version` and `released_count`. A first hold creates the account's row.
pub(crate) const PLACE_HOLD: &str =
    "INSERT INTO account_holds (account_id, user_id, currency, held_minor, version) \
     VALUES ($1, $2, $3, $4, 0) ON CONFLICT (account_id) DO UPDATE \
     SET held_minor = account_holds.held_minor + excluded.held_minor \
     WHERE account_holds.held_minor + excluded.held_minor \
     + (account_holds.released_minor - $5) <= $6 \
     AND account_holds.version - $7 = account_holds.released_count - $8";

/// Places `hold` for job `job` if the available balance covers it and nothing moved since it was read.
/// Returns the refusal when it cannot, having changed nothing the caller must keep.
pub(crate) async fn place_hold(
    conn: &mut Conn,
    job: &OperationId,
    user: &UserId,
    hold: &NewHold,
    now: i64,
) -> Result<Option<Enqueued>> {
    check_hold(hold)?;
    // A first hold creates the account's row; later ones add to it, guarded by the balance seen with
    // what was released since the position was read counted as still held (see the module header). One
    // statement either way.
    let placed = if !hold.may_fit() {
        0
    } else {
        query(PLACE_HOLD)
            .bind(hold.account_id.as_str())
            .bind(user.as_str())
            .bind(hold.amount.currency.as_str())
            .bind(hold.amount.minor)
            .bind(hold.position.released_minor)
            .bind(hold.available_at_back_office.minor)
            .bind(hold.position.version)
            .bind(hold.position.released_count)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    };
    if placed == 0 {
        return Ok(Some(refusal_of(conn, hold).await?));
    }
    if let Some(limit) = hold.stand_in_limit {
        if !add_stand_in_exposure(conn, user, hold.amount, limit).await? {
            return Ok(Some(Enqueued::StandInLimit));
        }
    }
    query(
        "INSERT INTO holds (job_id, account_id, amount_minor, currency, placed_at, stand_in)          VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(job.as_str())
    .bind(hold.account_id.as_str())
    .bind(hold.amount.minor)
    .bind(hold.amount.currency.as_str())
    .bind(now)
    .bind(i64::from(hold.stand_in_limit.is_some()))
    .execute(&mut *conn)
    .await?;
    Ok(None)
}

/// Adds `amount` to the user's stand-in exposure if it stays within `limit`; false when it would not.
async fn add_stand_in_exposure(
    conn: &mut Conn,
    user: &UserId,
    amount: Money,
    limit: Money,
) -> Result<bool> {
    if limit.currency != amount.currency {
        return Err(StoreError::Invalid("stand-in limit currency"));
    }
    if amount.minor > limit.minor {
        return Ok(false);
    }
    let added = query(
        "INSERT INTO stand_in_exposure (user_id, currency, queued_minor) VALUES ($1, $2, $3)          ON CONFLICT (user_id, currency) DO UPDATE          SET queued_minor = stand_in_exposure.queued_minor + excluded.queued_minor          WHERE stand_in_exposure.queued_minor + excluded.queued_minor <= $4",
    )
    .bind(user.as_str())
    .bind(amount.currency.as_str())
    .bind(amount.minor)
    .bind(limit.minor)
    .execute(&mut *conn)
    .await?;
    Ok(added.rows_affected() == 1)
}

/// Releases job `job`'s hold, if it has one still live; the account it was on.
pub(crate) async fn release_hold(
    conn: &mut Conn,
    job: &OperationId,
    why: HoldRelease,
    now: i64,
) -> Result<Option<String>> {
    let mut released = release_holds(conn, &[job.as_str()], why, now).await?;
    Ok(released.remove(job.as_str()))
}

/// Releases the live holds of `jobs` (those that have one): each job's account, by job id.
///
/// The holds themselves go in one statement; then the accounts' totals, taken in account order, and then
/// the users' stand-in exposures, taken in (user, currency) order: the order placing a hold takes them
/// (the account's total, then the user's exposure), each kind sorted, so a release and a placement, or
/// two releases on other nodes, never wait on each other in a cycle (PostgreSQL would end one of them
/// with "deadlock detected").
pub(crate) async fn release_holds(
    conn: &mut Conn,
    jobs: &[&str],
    why: HoldRelease,
    now: i64,
) -> Result<HashMap<String, String>> {
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = crate::parameter_list(2, jobs.len());
    let sql = format!(
        "UPDATE holds SET released_at = $1 WHERE released_at IS NULL AND job_id IN ({placeholders}) \
         RETURNING job_id, account_id, amount_minor, currency, stand_in"
    );
    let mut statement = query_as::<_, (String, String, i64, String, i64)>(&sql).bind(now);
    for job in jobs {
        statement = statement.bind(*job);
    }
    let holds = statement.fetch_all(&mut *conn).await?;
    let mut by_account: BTreeMap<&str, AccountRelease> = BTreeMap::new();
    for (_, account, amount, currency, stand_in) in &holds {
        let release = by_account.entry(account).or_insert_with(|| AccountRelease {
            currency,
            ..AccountRelease::default()
        });
        release.amount += amount;
        release.holds += 1;
        if *stand_in != 0 {
            release.stand_in += amount;
        }
    }
    let owners = subtract_from_totals(conn, &by_account, why).await?;
    // Stand-in exposure is the user's, per currency: taken in (user, currency) order, as placing a
    // stand-in hold takes one of them.
    let mut exposure: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (account, release) in by_account.iter().filter(|(_, r)| r.stand_in > 0) {
        let user = owners
            .get(*account)
            .ok_or(StoreError::Missing("the held account's total"))?;
        *exposure
            .entry((user.as_str(), release.currency))
            .or_default() += release.stand_in;
    }
    for ((user, currency), amount) in exposure {
        query(
            "UPDATE stand_in_exposure SET queued_minor = queued_minor - $1 \
             WHERE user_id = $2 AND currency = $3",
        )
        .bind(amount)
        .bind(user)
        .bind(currency)
        .execute(&mut *conn)
        .await?;
    }
    Ok(holds
        .into_iter()
        .map(|(job, account, ..)| (job, account))
        .collect())
}

/// Takes the released amounts off the accounts' totals: one account by one statement (the common
/// case), several by one statement after locking their rows in account order on PostgreSQL (a single
/// UPDATE locks rows in whatever order its plan visits them; SQLite has one writer at a time). The
/// accounts' owners, by account.
async fn subtract_from_totals(
    conn: &mut Conn,
    by_account: &BTreeMap<&str, AccountRelease<'_>>,
    why: HoldRelease,
) -> Result<HashMap<String, String>> {
    if by_account.is_empty() {
        return Ok(HashMap::new());
    }
    let accounts = by_account.len();
    if accounts > 1 && conn.engine() == Engine::Postgres {
        let list = crate::parameter_list(1, accounts);
        let sql = format!(
            "SELECT account_id FROM account_holds WHERE account_id IN ({list}) \
             ORDER BY account_id FOR UPDATE"
        );
        let mut lock = query(&sql);
        for account in by_account.keys() {
            lock = lock.bind(*account);
        }
        lock.execute(&mut *conn).await?;
    }
    let values = (0..accounts)
        .map(|i| {
            let p = 4 * i;
            format!("(${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH v (account_id, amount, bump, released) AS (VALUES {values}) \
         UPDATE account_holds SET held_minor = held_minor - v.amount, version = version + v.bump, \
         released_minor = released_minor + v.released, released_count = released_count + v.bump \
         FROM v WHERE account_holds.account_id = v.account_id \
         RETURNING account_holds.account_id, account_holds.user_id"
    );
    let mut update = query_as::<_, (String, String)>(&sql);
    for (account, release) in by_account {
        // A release after execution counts (in `version` and `released_minor`): the back office's
        // balance has moved, or may have, without a balance read before it showing so. A cancel moves
        // nothing there.
        let (bump, released) = match why {
            HoldRelease::AfterExecution => (release.holds, release.amount),
            HoldRelease::Cancelled => (0, 0),
        };
        update = update
            .bind(*account)
            .bind(release.amount)
            .bind(bump)
            .bind(released);
    }
    Ok(update.fetch_all(&mut *conn).await?.into_iter().collect())
}

/// What releasing holds takes off one account.
#[derive(Default)]
struct AccountRelease<'a> {
    currency: &'a str,
    amount: i64,
    holds: i64,
    /// The part of `amount` held in stand-in.
    stand_in: i64,
}
