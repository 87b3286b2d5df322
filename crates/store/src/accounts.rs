//! The middleware's copy of the user's accounts, and the account preferences bankgate keeps itself.

use crate::cache::{refreshed, CacheTable, Incoming, OnNew};
use crate::events::EventKind;
use crate::json::{from_text, to_text};
use crate::{AccountPrefs, Result, Store, StoredAccount};
use bankgate_backoffice::BoAccount;
use bankgate_domain::ids::{AccountId, BackOfficeId, BoRef, UserId};
use bankgate_domain::time_format::to_millis;
use sqlx::{query, query_as};
use time::OffsetDateTime;

const ACCOUNTS: CacheTable = CacheTable {
    name: "accounts",
    extra_columns: &[],
    new_id: || AccountId::generate().into_string(),
    changed_event: EventKind::Accounts,
    new_event: EventKind::Accounts,
    on_new: OnNew::Nothing,
};

type AccountRow = (String, String, String, String, String, i64);
const ACCOUNT_COLUMNS: &str = "id, user_id, back_office_id, data, user_data, refreshed_at";

fn account_from_row(
    (id, user, bo, data, prefs, refreshed_at): AccountRow,
) -> Result<StoredAccount> {
    Ok(StoredAccount {
        id: AccountId::from_trusted(id),
        user_id: UserId::from_trusted(user),
        back_office_id: BackOfficeId::from_trusted(bo),
        account: from_text(&data)?,
        prefs: from_text(&prefs)?,
        refreshed_at: refreshed(refreshed_at),
    })
}

impl Store {
    /// Records the user's accounts as `back_office` just reported them.
    pub async fn record_accounts(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        accounts: &[BoAccount],
        at: OffsetDateTime,
    ) -> Result<Vec<StoredAccount>> {
        let incoming = accounts
            .iter()
            .map(|a| {
                Ok(Incoming {
                    id_bo: a.id_bo.0.clone(),
                    data: to_text(a)?,
                    version: to_millis(a.updated_at),
                    extras: vec![],
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let recorded = self
            .record_objects(&ACCOUNTS, user, back_office, &incoming, at)
            .await?;
        accounts
            .iter()
            .zip(recorded)
            .map(|(account, row)| {
                let object = row.object(account)?;
                let refreshed_at = row.refreshed_at(at);
                Ok(StoredAccount {
                    id: AccountId::from_trusted(row.id),
                    user_id: user.clone(),
                    back_office_id: back_office.clone(),
                    account: object,
                    prefs: from_text(&row.user_data)?,
                    refreshed_at,
                })
            })
            .collect()
    }

    /// One of the user's accounts as last stored; None if it is not the user's.
    pub async fn get_account(
        &self,
        user: &UserId,
        id: &AccountId,
    ) -> Result<Option<StoredAccount>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 AND user_id = $2");
        let row: Option<AccountRow> = query_as(&sql)
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(self.db().read())
            .await?;
        row.map(account_from_row).transpose()
    }

    /// Two of the user's accounts as last stored, read together (a movement's source and destination);
    /// None for one that is not the user's.
    pub async fn get_account_pair(
        &self,
        user: &UserId,
        first: &AccountId,
        second: &AccountId,
    ) -> Result<(Option<StoredAccount>, Option<StoredAccount>)> {
        let sql =
            format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1 AND id IN ($2, $3)");
        let rows: Vec<AccountRow> = query_as(&sql)
            .bind(user.as_str())
            .bind(first.as_str())
            .bind(second.as_str())
            .fetch_all(self.db().read())
            .await?;
        let (mut one, mut two) = (None, None);
        for account in rows.into_iter().map(account_from_row) {
            let account = account?;
            if account.id == *first {
                one = Some(account.clone());
            }
            if account.id == *second {
                two = Some(account);
            }
        }
        Ok((one, two))
    }

    /// Every account of the user as last stored.
    pub async fn list_accounts(&self, user: &UserId) -> Result<Vec<StoredAccount>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1 ORDER BY back_office_id, id"
        );
        let rows: Vec<AccountRow> = query_as(&sql)
            .bind(user.as_str())
            .fetch_all(self.db().read())
            .await?;
        rows.into_iter().map(account_from_row).collect()
    }

    /// bankgate's id for a back-office account it has already recorded.
    pub async fn account_id_for(
        &self,
        back_office: &BackOfficeId,
        id_bo: &BoRef,
    ) -> Result<Option<AccountId>> {
        let row: Option<(String,)> =
            query_as("SELECT id FROM accounts WHERE back_office_id = $1 AND id_bo = $2")
                .bind(back_office.as_str())
                .bind(id_bo.as_str())
                .fetch_optional(self.db().read())
                .await?;
        Ok(row.map(|(id,)| AccountId::from_trusted(id)))
    }

    /// Saves the user's preferences for an account. Making it the main account makes every other account
    /// of the user not main, in the same transaction.
    pub async fn set_account_prefs(
        &self,
        user: &UserId,
        id: &AccountId,
        prefs: &AccountPrefs,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.db().write().begin().await?;
        let mut changed = Vec::new();
        if prefs.is_main {
            let others: Vec<(String, String)> =
                query_as("SELECT id, user_data FROM accounts WHERE user_id = $1 AND id <> $2")
                    .bind(user.as_str())
                    .bind(id.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
            for (other, data) in others {
                let mut other_prefs: AccountPrefs = from_text(&data)?;
                if other_prefs.is_main {
                    other_prefs.is_main = false;
                    query("UPDATE accounts SET user_data = $2 WHERE id = $1")
                        .bind(other.as_str())
                        .bind(to_text(&other_prefs)?)
                        .execute(&mut *tx)
                        .await?;
                    changed.push(other);
                }
            }
        }
        let done = query("UPDATE accounts SET user_data = $3 WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(user.as_str())
            .bind(to_text(prefs)?)
            .execute(&mut *tx)
            .await?;
        let found = done.rows_affected() == 1;
        if found {
            changed.push(id.as_str().to_owned());
        } else {
            changed.clear();
        }
        let subjects: Vec<&str> = changed.iter().map(String::as_str).collect();
        self.commit_with_events(tx, user, EventKind::Accounts, &subjects, at)
            .await?;
        self.forget_copies(&ACCOUNTS);
        Ok(found)
    }
}
