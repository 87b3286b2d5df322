//! The middleware's copy of the user's cards, and the card preferences bankgate keeps itself.

use crate::cache::{refreshed, CacheTable, Extra, Incoming, OnNew};
use crate::events::EventKind;
use crate::json::{from_text, to_text};
use crate::{CardPrefs, Result, Store, StoredCard};
use bankgate_backoffice::BoCard;
use bankgate_domain::ids::{AccountId, BackOfficeId, CardId, UserId};
use bankgate_domain::time_format::to_millis;
use sqlx::{query, query_as};
use time::OffsetDateTime;

const CARDS: CacheTable = CacheTable {
    name: "cards",
    extra_columns: &["account_id"],
    new_id: || CardId::generate().into_string(),
    changed_event: EventKind::Card,
    new_event: EventKind::Cards,
    on_new: OnNew::Nothing,
};

type CardRow = (String, String, String, String, String, String, i64);
const CARD_COLUMNS: &str = "id, user_id, account_id, back_office_id, data, user_data, refreshed_at";

fn card_from_row(
    (id, user, account, bo, data, prefs, refreshed_at): CardRow,
) -> Result<StoredCard> {
    Ok(StoredCard {
        id: CardId::from_trusted(id),
        user_id: UserId::from_trusted(user),
        account_id: AccountId::from_trusted(account),
        back_office_id: BackOfficeId::from_trusted(bo),
        card: from_text(&data)?,
        prefs: from_text(&prefs)?,
        refreshed_at: refreshed(refreshed_at),
    })
}

impl Store {
    /// Records cards `back_office` just reported, each with the bankgate id of its account (which must
    /// already be recorded).
    pub async fn record_cards(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        cards: &[(BoCard, AccountId)],
        at: OffsetDateTime,
    ) -> Result<Vec<StoredCard>> {
        let incoming = cards
            .iter()
            .map(|(card, account)| {
                Ok(Incoming {
                    id_bo: card.id_bo.0.clone(),
                    data: to_text(card)?,
                    version: to_millis(card.updated_at),
                    extras: vec![Extra::Text(account.as_str().to_owned())],
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let recorded = self
            .record_objects(&CARDS, user, back_office, &incoming, at)
            .await?;
        cards
            .iter()
            .zip(recorded)
            .map(|((card, account), row)| {
                let object = row.object(card)?;
                let refreshed_at = row.refreshed_at(at);
                Ok(StoredCard {
                    id: CardId::from_trusted(row.id),
                    user_id: user.clone(),
                    account_id: account.clone(),
                    back_office_id: back_office.clone(),
                    card: object,
                    prefs: from_text(&row.user_data)?,
                    refreshed_at,
                })
            })
            .collect()
    }

    /// One of the user's cards as last stored; None if it is not the user's.
    pub async fn get_card(&self, user: &UserId, id: &CardId) -> Result<Option<StoredCard>> {
        let sql = format!("SELECT {CARD_COLUMNS} FROM cards WHERE id = $1 AND user_id = $2");
        let row: Option<CardRow> = query_as(&sql)
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(self.db().read())
            .await?;
        row.map(card_from_row).transpose()
    }

    /// A card whoever holds it: for operations staff tools, never for user requests.
    pub async fn find_card(&self, id: &CardId) -> Result<Option<StoredCard>> {
        let sql = format!("SELECT {CARD_COLUMNS} FROM cards WHERE id = $1");
        let row: Option<CardRow> = query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(self.db().read())
            .await?;
        row.map(card_from_row).transpose()
    }

    /// Every card of the user as last stored.
    pub async fn list_cards(&self, user: &UserId) -> Result<Vec<StoredCard>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} FROM cards WHERE user_id = $1 ORDER BY back_office_id, id"
        );
        let rows: Vec<CardRow> = query_as(&sql)
            .bind(user.as_str())
            .fetch_all(self.db().read())
            .await?;
        rows.into_iter().map(card_from_row).collect()
    }

    /// Saves the user's preferences for a card; false if it is not the user's.
    pub async fn set_card_prefs(
        &self,
        user: &UserId,
        id: &CardId,
        prefs: &CardPrefs,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.db().write().begin().await?;
        let done = query("UPDATE cards SET user_data = $3 WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(user.as_str())
            .bind(to_text(prefs)?)
            .execute(&mut *tx)
            .await?;
        let found = done.rows_affected() == 1;
        let subjects: &[&str] = if found { &[id.as_str()] } else { &[] };
        self.commit_with_events(tx, user, EventKind::Card, subjects, at)
            .await?;
        self.forget_copies(&CARDS);
        Ok(found)
    }
}
