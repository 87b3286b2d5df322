//! What every customer-requested movement shares: checking the account it touches before any money
//! moves, and refusing in the contract's codes. Checks that need no database run before a call opens
//! its transaction; checks of an account's state run inside it, after the idempotency lookup, so a
//! repeat of a call that succeeded still gets its first answer when the state has changed since.

use crate::accounts::fetch_account;
use crate::error::SandboxError;
use crate::ledger::Unposted;
use bankgate_backoffice::{AccountStatus, BoAccount};
use bankgate_db::Conn;
use bankgate_domain::Money;

/// Which way money goes on a customer account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Debit,
    Credit,
}

/// The account, if money can move on it this way: it exists, is not closed, holds `amount`'s currency
/// and, to be debited, is not blocked. A blocked account still receives money, as a frozen account at a
/// real bank does.
pub(crate) async fn usable_account(
    conn: &mut Conn,
    account_id: &str,
    amount: Money,
    side: Side,
) -> Result<BoAccount, SandboxError> {
    let account = fetch_account(conn, account_id).await?;
    if account.is_closed {
        let message = format!("account {account_id} is closed");
        return Err(SandboxError::rejected("ACCOUNT_CLOSED", message));
    }
    if side == Side::Debit && account.status == AccountStatus::Blocked {
        let message = format!("account {account_id} is blocked");
        return Err(SandboxError::rejected("ACCOUNT_BLOCKED", message));
    }
    if account.ledger.currency != amount.currency {
        let message = format!(
            "account {account_id} holds {}, not {}",
            account.ledger.currency, amount.currency
        );
        return Err(SandboxError::rejected("CURRENCY_MISMATCH", message));
    }
    Ok(account)
}

/// Refuses a zero or negative amount; `what` names it in the message ("a payout").
pub(crate) fn require_positive(amount: Money, what: &str) -> Result<(), SandboxError> {
    if amount.is_positive() {
        Ok(())
    } else {
        let message = format!("{what} must be a positive amount, not {amount}");
        Err(SandboxError::rejected("INVALID_AMOUNT", message))
    }
}

/// The entry id of a posted entry, or the refusal the caller reports (and rolls back on).
pub(crate) fn posted(outcome: Result<String, Unposted>) -> Result<String, SandboxError> {
    outcome.map_err(|unposted| match unposted {
        Unposted::InsufficientFunds => SandboxError::rejected(
            "INSUFFICIENT_FUNDS",
            "the available balance does not cover the amount",
        ),
    })
}
