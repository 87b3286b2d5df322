//! `GET /rates`: every back office's quotes, the back offices, and the routes between them.

use super::common::dts;
use crate::services::rates::RatesView;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateWire {
    /// `<backOfficeId><src><dst>`.
    #[schema(example = "sandbox-aUSDEUR")]
    pub rate_id: String,
    pub src: String,
    pub dst: String,
    /// What one `src` converts to when the user moves money from `src` to `dst`.
    #[schema(example = 0.92)]
    pub rate: f64,
    pub buy: f64,
    pub sell: f64,
    pub is_common: bool,
    pub back_office_id: String,
    pub back_office_name: String,
    pub dts_refreshed: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackOfficeWire {
    pub id: String,
    pub name: String,
    pub base_currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackOfficeRouteWire {
    pub source_back_office_id: String,
    pub destination_back_office_id: String,
    /// bankgate charges no commission on transfers between back offices.
    #[serde(rename = "AFiCommissionRate")]
    pub afi_commission_rate: f64,
    /// The currency the two back offices settle in: the source's base currency.
    pub settlement_currency: String,
    pub base_currency: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatesResponse {
    pub rates: Vec<RateWire>,
    pub back_offices: Vec<BackOfficeWire>,
    pub back_office_routes: Vec<BackOfficeRouteWire>,
    pub dts_refreshed: String,
    pub success: bool,
    /// The base currency of the user's first back office.
    pub base_currency: Option<String>,
}

impl RatesResponse {
    pub fn new(view: RatesView, now: OffsetDateTime) -> Self {
        let mut rates = Vec::new();
        let mut back_offices = Vec::new();
        for office in &view.offices {
            let board = &office.board;
            back_offices.push(BackOfficeWire {
                id: office.back_office.to_string(),
                name: office.name.clone(),
                base_currency: board.base_currency.to_string(),
            });
            for quote in &board.quotes {
                rates.push(RateWire {
                    rate_id: format!("{}{}{}", office.back_office, quote.src, quote.dst),
                    src: quote.src.to_string(),
                    dst: quote.dst.to_string(),
                    rate: quote.buy.to_f64(),
                    buy: quote.buy.to_f64(),
                    sell: quote.sell.to_f64(),
                    is_common: quote.buy == quote.sell,
                    back_office_id: office.back_office.to_string(),
                    back_office_name: office.name.clone(),
                    dts_refreshed: dts(board.refreshed_at),
                });
            }
        }
        let mut routes = Vec::new();
        for source in &view.offices {
            for destination in &view.offices {
                if source.back_office == destination.back_office {
                    continue;
                }
                routes.push(BackOfficeRouteWire {
                    source_back_office_id: source.back_office.to_string(),
                    destination_back_office_id: destination.back_office.to_string(),
                    afi_commission_rate: 0.0,
                    settlement_currency: source.board.base_currency.to_string(),
                    base_currency: destination.board.base_currency.to_string(),
                });
            }
        }
        RatesResponse {
            base_currency: view
                .offices
                .first()
                .map(|o| o.board.base_currency.to_string()),
            rates,
            back_offices,
            back_office_routes: routes,
            dts_refreshed: dts(now),
            success: true,
        }
    }
}
