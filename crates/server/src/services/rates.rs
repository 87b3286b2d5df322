//! Exchange rates: asked on demand of every back office the user holds products at (they may differ), and
//! the routes between those back offices that a transfer can take.

use super::{Entity, Result, Services};
use bankgate_backoffice::RateBoard;
use bankgate_domain::ids::{BackOfficeId, UserId};
use futures::future::join_all;

/// One back office's quotes.
#[derive(Debug, Clone)]
pub struct BackOfficeRates {
    pub back_office: BackOfficeId,
    pub name: String,
    pub board: RateBoard,
}

/// What `GET /rates` shows.
#[derive(Debug, Clone)]
pub struct RatesView {
    pub offices: Vec<BackOfficeRates>,
}

impl Services {
    /// The rates of each of the user's back offices that quotes any. A back office that cannot answer
    /// now is left out rather than failing the whole answer.
    pub async fn rates(&self, user: &UserId) -> Result<RatesView> {
        let links = self.links(user).await?;
        let asked = links.iter().map(|link| async move {
            let id = &link.back_office_id;
            let board = self
                .read_back_office(id, "rates.get", Entity::Account, |bo| async move {
                    bo.require_rates()?.rate_board().await
                })
                .await;
            (id.clone(), board)
        });
        let mut offices = Vec::new();
        for (id, board) in join_all(asked).await {
            match board {
                Ok(board) => offices.push(BackOfficeRates {
                    name: self.back_office_name(&id),
                    back_office: id,
                    board,
                }),
                Err(e) => tracing::warn!(back_office = %id, error = %e, "rates unavailable"),
            }
        }
        Ok(RatesView { offices })
    }
}
