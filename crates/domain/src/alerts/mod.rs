//! Alerts (section 17): the catalogue of alert types a user can turn on, their parameters, and when a
//! transaction alert fires and what it says (the periodic summaries are in `summary`). Turning alerts on
//! and off, and delivering them as messages, belong to the store and the services.

use crate::money::{Currency, Money};

mod summary;

pub use summary::{last_completed_period, summary_notice, AccountSummary, SummaryPeriod};

/// The alert types bankgate offers: the contract's catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertType {
    /// Money arrived in an account.
    Credit,
    /// A card purchase was made.
    Purchase,
    /// Money left an account other than by a card purchase.
    Debit,
    /// A loan payment is due. No configured back office holds loans, so it never fires today.
    LoansDue,
    SummaryMonthly,
    SummaryQuarterly,
    SummaryAnnually,
}

impl AlertType {
    pub const ALL: [AlertType; 7] = [
        AlertType::Credit,
        AlertType::Purchase,
        AlertType::Debit,
        AlertType::LoansDue,
        AlertType::SummaryMonthly,
        AlertType::SummaryQuarterly,
        AlertType::SummaryAnnually,
    ];

    /// The contract's `alertTypeId`.
    pub fn id(self) -> &'static str {
        match self {
            AlertType::Credit => "alert1",
            AlertType::Purchase => "alert2",
            AlertType::Debit => "alert21",
            AlertType::LoansDue => "alert4",
            AlertType::SummaryMonthly => "summaryReportsMonthly",
            AlertType::SummaryQuarterly => "summaryReportsQuarterly",
            AlertType::SummaryAnnually => "summaryReportsAnnually",
        }
    }

    pub fn parse(id: &str) -> Option<AlertType> {
        AlertType::ALL.into_iter().find(|t| t.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            AlertType::Credit => "Credit",
            AlertType::Purchase => "Purchase",
            AlertType::Debit => "Debit",
            AlertType::LoansDue => "Loans due",
            AlertType::SummaryMonthly => "Monthly summary",
            AlertType::SummaryQuarterly => "Quarterly summary",
            AlertType::SummaryAnnually => "Annual summary",
        }
    }

    pub fn category(self) -> &'static str {
        match self {
            AlertType::Credit | AlertType::Purchase | AlertType::Debit => "transactions",
            AlertType::LoansDue => "loans",
            AlertType::SummaryMonthly
            | AlertType::SummaryQuarterly
            | AlertType::SummaryAnnually => "summaryReports",
        }
    }

    /// What the app shows while the alert is on.
    pub fn description_on(self) -> &'static str {
        match self {
            AlertType::Credit => "You get a message when money arrives in one of your accounts.",
            AlertType::Purchase => {
                "You get a message for each purchase made with one of your cards."
            }
            AlertType::Debit => {
                "You get a message when money leaves one of your accounts other than by card."
            }
            AlertType::LoansDue => "You get a message before a loan payment is due.",
            AlertType::SummaryMonthly => "You get a summary of your accounts every month.",
            AlertType::SummaryQuarterly => "You get a summary of your accounts every quarter.",
            AlertType::SummaryAnnually => "You get a summary of your accounts every year.",
        }
    }

    /// What the app shows while the alert is off.
    pub fn description_off(self) -> &'static str {
        match self {
            AlertType::Credit => "Turn on to hear when money arrives in your accounts.",
            AlertType::Purchase => "Turn on to hear of every purchase made with your cards.",
            AlertType::Debit => "Turn on to hear when money leaves your accounts.",
            AlertType::LoansDue => "Turn on to be reminded of loan payments.",
            AlertType::SummaryMonthly => "Turn on for a monthly summary of your accounts.",
            AlertType::SummaryQuarterly => "Turn on for a quarterly summary of your accounts.",
            AlertType::SummaryAnnually => "Turn on for a yearly summary of your accounts.",
        }
    }

    /// The alert fires on single transactions (rather than on a schedule).
    pub fn is_per_transaction(self) -> bool {
        matches!(
            self,
            AlertType::Credit | AlertType::Purchase | AlertType::Debit
        )
    }
}

/// The smallest amount a transaction alert fires for, in hundredths of the transaction's major unit
/// (`"minAmount": "50"` is 50 dollars for a USD line, 50 euros for a EUR line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinAmount {
    hundredths: i64,
}

impl MinAmount {
    /// A non-negative decimal with at most two decimals.
    pub fn parse(text: &str) -> Result<MinAmount, String> {
        let amount = Money::parse_decimal(text.trim(), Currency::USD)
            .map_err(|_| format!("minAmount must be a number with at most two decimals: {text}"))?;
        if amount.minor < 0 {
            return Err("minAmount must not be negative".to_owned());
        }
        Ok(MinAmount {
            hundredths: amount.minor,
        })
    }

    /// Whether `amount` (either sign) reaches this minimum.
    pub fn is_reached_by(self, amount: Money) -> bool {
        let scaled = i128::from(amount.minor).abs() * 100;
        let threshold =
            i128::from(self.hundredths) * 10i128.pow(u32::from(amount.currency.exponent()));
        scaled >= threshold
    }
}

/// Who alert messages come from.
pub const ALERTS_SENDER: &str = "AmpliFi Alerts";

/// The `minAmount` of an alert's `parameters` object, if it has one: a decimal string or a number.
pub fn min_amount_of(parameters: &serde_json::Value) -> Result<Option<MinAmount>, String> {
    match parameters.get("minAmount") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => MinAmount::parse(text).map(Some),
        Some(serde_json::Value::Number(n)) => MinAmount::parse(&n.to_string()).map(Some),
        Some(_) => Err("minAmount must be a number".to_owned()),
    }
}

/// What a transaction alert needs to know of a statement line.
#[derive(Debug, Clone)]
pub struct TransactionFacts<'a> {
    /// Signed: money in is positive.
    pub amount: Money,
    /// The line was made with a card.
    pub by_card: bool,
    pub narrative: &'a str,
    /// The account's name as the user knows it.
    pub account_name: &'a str,
}

/// The message an alert sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertNotice {
    pub title: String,
    pub text: String,
}

/// The notice `alert` (on, with `min_amount`) gives for a new transaction, if it fires for it.
pub fn transaction_notice(
    alert: AlertType,
    min_amount: Option<MinAmount>,
    line: &TransactionFacts<'_>,
) -> Option<AlertNotice> {
    let fires = match alert {
        AlertType::Credit => line.amount.minor > 0,
        AlertType::Purchase => line.amount.minor < 0 && line.by_card,
        AlertType::Debit => line.amount.minor < 0 && !line.by_card,
        _ => false,
    };
    if !fires || min_amount.is_some_and(|min| !min.is_reached_by(line.amount)) {
        return None;
    }
    let amount = format!(
        "{} {}",
        line.amount.to_decimal_string().trim_start_matches('-'),
        line.amount.currency
    );
    let (title, text) = match alert {
        AlertType::Credit => (
            "Money received",
            format!(
                "{amount} arrived in {}: {}",
                line.account_name, line.narrative
            ),
        ),
        AlertType::Purchase => (
            "Card purchase",
            format!(
                "{amount} card purchase on {}: {}",
                line.account_name, line.narrative
            ),
        ),
        _ => (
            "Money sent",
            format!("{amount} left {}: {}", line.account_name, line.narrative),
        ),
    };
    Some(AlertNotice {
        title: title.to_owned(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("USD").unwrap())
    }

    fn line(amount: Money, by_card: bool) -> TransactionFacts<'static> {
        TransactionFacts {
            amount,
            by_card,
            narrative: "Coffee",
            account_name: "Checking",
        }
    }

    #[test]
    fn ids_round_trip_and_unknown_ids_are_none() {
        for alert in AlertType::ALL {
            assert_eq!(AlertType::parse(alert.id()), Some(alert));
        }
        assert_eq!(AlertType::parse("alert99"), None);
    }

    #[test]
    fn each_transaction_alert_fires_for_its_own_lines_only() {
        let credit = line(usd(1_000), false);
        let purchase = line(usd(-450), true);
        let debit = line(usd(-2_000), false);
        let fired = |alert| {
            [&credit, &purchase, &debit].map(|l| transaction_notice(alert, None, l).is_some())
        };
        assert_eq!(fired(AlertType::Credit), [true, false, false]);
        assert_eq!(fired(AlertType::Purchase), [false, true, false]);
        assert_eq!(fired(AlertType::Debit), [false, false, true]);
        assert_eq!(fired(AlertType::SummaryMonthly), [false, false, false]);
    }

    #[test]
    fn the_notice_names_amount_account_and_narrative() {
        let notice = transaction_notice(AlertType::Purchase, None, &line(usd(-450), true)).unwrap();
        assert_eq!(notice.title, "Card purchase");
        assert_eq!(notice.text, "4.50 USD card purchase on Checking: Coffee");
    }

    #[test]
    fn min_amount_compares_in_the_lines_own_unit() {
        let min = MinAmount::parse("50").unwrap();
        assert!(!min.is_reached_by(usd(4_999)));
        assert!(min.is_reached_by(usd(-5_000)));
        let jpy = Money::new(50, Currency::parse("JPY").unwrap());
        assert!(min.is_reached_by(jpy));
        assert!(transaction_notice(AlertType::Credit, Some(min), &line(usd(100), false)).is_none());
    }

    #[test]
    fn min_amount_comes_from_parameters_as_text_or_number() {
        let min = |v: serde_json::Value| min_amount_of(&v);
        assert_eq!(min(serde_json::json!({})), Ok(None));
        assert_eq!(
            min(serde_json::json!({"minAmount": 12.5})),
            Ok(Some(MinAmount { hundredths: 1_250 }))
        );
        assert_eq!(
            min(serde_json::json!({"minAmount": "7"})),
            Ok(Some(MinAmount { hundredths: 700 }))
        );
        assert!(min(serde_json::json!({"minAmount": true})).is_err());
    }

    #[test]
    fn min_amount_refuses_negatives_and_fractions_of_cents() {
        assert!(MinAmount::parse("-1").is_err());
        assert!(MinAmount::parse("0.001").is_err());
        assert!(MinAmount::parse("ten").is_err());
        assert_eq!(
            MinAmount::parse("0.5").unwrap(),
            MinAmount { hundredths: 50 }
        );
    }
}
