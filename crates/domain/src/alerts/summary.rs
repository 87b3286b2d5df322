//! The periodic summary alerts: which period a summary covers, and what it says.

use super::{AlertNotice, AlertType};
use crate::money::Money;
use time::OffsetDateTime;

/// A period a summary report covers: `[start, end)` in UTC, and its label (`2025-01`, `2024-Q4`, `2024`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryPeriod {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub label: String,
}

/// The latest period of summary alert `alert` that has ended at `now`; None for other alerts.
pub fn last_completed_period(alert: AlertType, now: OffsetDateTime) -> Option<SummaryPeriod> {
    let today = now.to_offset(time::UtcOffset::UTC).date();
    let (year, month) = (today.year(), u8::from(today.month()));
    let months_per_period: u8 = match alert {
        AlertType::SummaryMonthly => 1,
        AlertType::SummaryQuarterly => 3,
        AlertType::SummaryAnnually => 12,
        _ => return None,
    };
    // The current period starts at the first month of its group; the completed one just before it.
    let current_first = (month - 1) / months_per_period * months_per_period + 1;
    let months_back = i32::from(months_per_period);
    let index = year * 12 + i32::from(current_first) - 1 - months_back;
    let (start_year, start_month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u8);
    let first_of = |y: i32, m: u8| -> Option<OffsetDateTime> {
        let month = time::Month::try_from(m).ok()?;
        Some(
            time::Date::from_calendar_date(y, month, 1)
                .ok()?
                .midnight()
                .assume_utc(),
        )
    };
    let start = first_of(start_year, start_month)?;
    let end = first_of(year, current_first)?;
    let label = match alert {
        AlertType::SummaryMonthly => format!("{start_year}-{start_month:02}"),
        AlertType::SummaryQuarterly => format!("{start_year}-Q{}", (start_month - 1) / 3 + 1),
        _ => format!("{start_year}"),
    };
    Some(SummaryPeriod { start, end, label })
}

/// One account's movements over a summary period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub account_name: String,
    pub credits: Money,
    pub credit_count: u32,
    /// Positive: the total that left the account.
    pub debits: Money,
    pub debit_count: u32,
}

/// The message of summary alert `alert` for `period`.
pub fn summary_notice(
    alert: AlertType,
    period: &SummaryPeriod,
    accounts: &[AccountSummary],
) -> AlertNotice {
    let lines: Vec<String> = accounts
        .iter()
        .map(|a| {
            format!(
                "{}: {} in ({} {}), {} out ({} {})",
                a.account_name,
                a.credit_count,
                a.credits.to_decimal_string(),
                a.credits.currency,
                a.debit_count,
                a.debits.to_decimal_string(),
                a.debits.currency,
            )
        })
        .collect();
    let text = if lines.is_empty() {
        format!("No account movements in {}.", period.label)
    } else {
        format!("Your accounts in {}. {}", period.label, lines.join("; "))
    };
    AlertNotice {
        title: format!("{} {}", alert.name(), period.label),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn the_last_completed_period_is_the_one_before_the_current() {
        use time::macros::datetime;
        let now = datetime!(2025-01-15 12:00 UTC);
        let monthly = last_completed_period(AlertType::SummaryMonthly, now).unwrap();
        assert_eq!(
            (monthly.start, monthly.end, monthly.label.as_str()),
            (
                datetime!(2024-12-01 0:00 UTC),
                datetime!(2025-01-01 0:00 UTC),
                "2024-12"
            )
        );
        let quarterly =
            last_completed_period(AlertType::SummaryQuarterly, datetime!(2025-05-02 1:00 UTC))
                .unwrap();
        assert_eq!(
            (quarterly.start, quarterly.end, quarterly.label.as_str()),
            (
                datetime!(2025-01-01 0:00 UTC),
                datetime!(2025-04-01 0:00 UTC),
                "2025-Q1"
            )
        );
        let annual = last_completed_period(AlertType::SummaryAnnually, now).unwrap();
        assert_eq!(annual.label, "2024");
        assert_eq!(annual.end, datetime!(2025-01-01 0:00 UTC));
        assert_eq!(last_completed_period(AlertType::Credit, now), None);
    }

    #[test]
    fn a_summary_names_each_accounts_movements() {
        let period = last_completed_period(
            AlertType::SummaryMonthly,
            time::macros::datetime!(2025-01-15 12:00 UTC),
        )
        .unwrap();
        let notice = summary_notice(
            AlertType::SummaryMonthly,
            &period,
            &[AccountSummary {
                account_name: "Checking".into(),
                credits: Money::new(100_000, Currency::USD),
                credit_count: 1,
                debits: Money::new(1_250, Currency::USD),
                debit_count: 2,
            }],
        );
        assert_eq!(notice.title, "Monthly summary 2024-12");
        assert_eq!(
            notice.text,
            "Your accounts in 2024-12. Checking: 1 in (1000.00 USD), 2 out (12.50 USD)"
        );
        assert_eq!(
            summary_notice(AlertType::SummaryMonthly, &period, &[]).text,
            "No account movements in 2024-12."
        );
    }
}
