//! Demo data for a fresh install: two users, each with products at both sandbox back offices, set up
//! through the back-office traits exactly as real onboarding would be, so it works the same whether the
//! back offices run in-process or are reached over HTTP.
//!
//! Seeding again against back offices that kept their state (bankgate's own database new, theirs not)
//! creates nothing twice: every keyed step is answered from the back office's record of its key, and the
//! past card purchases, which carry no key, are made only when the card does not show them yet.

use crate::services::onboarding::{NewUserSpec, Onboarding};
use crate::services::{Entity, Result, Services};
use bankgate_backoffice::{
    AuthorizationRequest, BoAccount, Deposit, IssueCard, OpenAccount, TransactionQuery,
};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::user::{Address, PersonName, UserProfile};
use bankgate_domain::{Currency, Money};
use bankgate_store::StoredAccount;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

pub const CHECKING_OFFICE: &str = "sandbox-a";
pub const SAVINGS_OFFICE: &str = "sandbox-b";

/// A customer set up like the demo users: USD checking (1000.00, active card) at sandbox-a; USD savings
/// (500.00, card not activated) and EUR (200.00) at sandbox-b. Load tests create many of them.
#[derive(Debug, Clone, Copy)]
pub struct DemoCustomer<'a> {
    pub user_name: &'a str,
    pub password: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub ssn: &'a str,
}

const USERS: [DemoCustomer<'static>; 2] = [
    DemoCustomer {
        user_name: "demo",
        password: "demo-password",
        first_name: "Dana",
        last_name: "Demo",
        ssn: "123456789",
    },
    DemoCustomer {
        user_name: "demo2",
        password: "demo2-password",
        first_name: "Sam",
        last_name: "Sample",
        ssn: "987654321",
    },
];

/// Past card purchases on the checking account: (days ago, amount in cents, MCC, merchant).
const PURCHASES: [(i64, i64, &str, &str); 3] = [
    (10, 475, "5814", "Corner Coffee"),
    (5, 6230, "5411", "Green Grocer"),
    (2, 1320, "5942", "Book Nook"),
];

/// Creates the demo users unless the database already has users. Returns whether it did.
pub async fn seed(services: &Services) -> Result<bool> {
    if services.store.user_count().await? > 0 {
        return Ok(false);
    }
    for user in &USERS {
        seed_customer(services, user).await?;
    }
    tracing::info!("demo users created: demo / demo-password and demo2 / demo2-password");
    Ok(true)
}

/// Creates one customer with the demo products, through the back-office traits.
pub async fn seed_customer(services: &Services, demo: &DemoCustomer<'_>) -> Result<UserId> {
    let profile = UserProfile {
        name: PersonName {
            first_name: demo.first_name.into(),
            middle_name: None,
            last_name: demo.last_name.into(),
        },
        sort_id: bankgate_domain::ids::random_base36(3),
        language_code: "en".into(),
        segment: "demo".into(),
        referral_code: bankgate_domain::ids::random_base36(9).to_uppercase(),
        is_private: true,
        ui_stage: "firstContact".into(),
        ssn: Some(demo.ssn.into()),
        date_of_birth: Some("1990-04-01".into()),
        email: Some(format!("{}@example.com", demo.user_name)),
        mobile: Some("+15555550100".into()),
        addresses: vec![Address {
            address_line1: "1 Demo Street".into(),
            address_line2: None,
            city: "Springfield".into(),
            state: "IL".into(),
            postal_code: "62701".into(),
            country_code: "USA".into(),
        }],
        ..UserProfile::default()
    };
    let spec = NewUserSpec {
        user_name: demo.user_name.into(),
        password: demo.password.into(),
        profile,
    };
    let user = services.register_user(spec).await?;
    let now = services.clock.now();
    let checking_office = BackOfficeId::from_trusted(CHECKING_OFFICE.into());
    let checking = services.onboard_at(&user, &checking_office).await?;
    let name_on_card = format!("{} {}", demo.first_name, demo.last_name).to_uppercase();
    seed_checking(services, &checking_office, &checking, &name_on_card, now).await?;
    let savings = services
        .onboard_at(&user, &BackOfficeId::from_trusted(SAVINGS_OFFICE.into()))
        .await?;
    seed_savings(&savings, &name_on_card, now).await?;
    Ok(user)
}

/// USD checking holding 1000.00 after an opening deposit and three card purchases, with an active card.
async fn seed_checking(
    services: &Services,
    office: &BackOfficeId,
    onboarding: &Onboarding<'_>,
    name_on_card: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let stored = open(
        onboarding,
        "checking",
        "Everyday checking",
        "checking",
        Currency::USD,
    )
    .await?;
    onboarding.make_main(&stored).await?;
    let account = stored.account.clone();
    let spent: i64 = PURCHASES.iter().map(|p| p.1).sum();
    deposit(
        onboarding,
        "checking-opening",
        &account,
        100_000 + spent,
        "Opening deposit",
        now - Duration::days(30),
    )
    .await?;
    let card = IssueCard {
        name_on_card: name_on_card.into(),
        type_id: "debit".into(),
        activated: true,
    };
    let card = onboarding
        .issue_card("checking-card", &stored, card)
        .await?;
    let made = purchases_made(services, office, &account.id_bo, &card.id_bo).await?;
    for (days_ago, cents, mcc, merchant) in PURCHASES {
        if made.contains(&(cents, mcc.to_owned())) {
            continue;
        }
        let at = now - Duration::days(days_ago);
        let purchase = AuthorizationRequest {
            card_id_bo: card.id_bo.clone(),
            amount: Money::new(cents, Currency::USD),
            mcc: mcc.into(),
            merchant: Some(merchant.into()),
            local_time: PrimitiveDateTime::new(
                at.date(),
                time::Time::from_hms(12, 0, 0).unwrap_or(time::Time::MIDNIGHT),
            ),
            at,
        };
        onboarding.purchase(&card.id_bo, purchase).await?;
    }
    Ok(())
}

/// The (amount in cents, MCC) of the purchases `card` already shows on `account` (a demo account has few
/// lines; the newest thousand are plenty).
async fn purchases_made(
    services: &Services,
    office: &BackOfficeId,
    account: &BoRef,
    card: &BoRef,
) -> Result<Vec<(i64, String)>> {
    let query = TransactionQuery::Latest {
        limit: 1_000,
        since: OffsetDateTime::UNIX_EPOCH,
    };
    let query = &query;
    let lines = services
        .call_back_office(
            office,
            "accounts.transactions",
            Entity::Account,
            |bo| async move {
                bo.require_accounts()?
                    .list_transactions(account, query)
                    .await
            },
        )
        .await?;
    Ok(lines
        .into_iter()
        .filter(|line| line.card_id_bo.as_ref() == Some(card))
        .map(|line| (-line.amount.minor, line.mcc.unwrap_or_default()))
        .collect())
}

/// USD savings holding 500.00 with a card not yet activated, and a EUR account holding 200.00.
async fn seed_savings(
    onboarding: &Onboarding<'_>,
    name_on_card: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let savings_stored = open(onboarding, "savings", "Savings", "savings", Currency::USD).await?;
    let savings = savings_stored.account.clone();
    deposit(
        onboarding,
        "savings-opening",
        &savings,
        40_000,
        "Opening deposit",
        now - Duration::days(60),
    )
    .await?;
    deposit(
        onboarding,
        "savings-top-up",
        &savings,
        10_000,
        "Transfer from another bank",
        now - Duration::days(7),
    )
    .await?;
    let card = IssueCard {
        name_on_card: name_on_card.into(),
        type_id: "debit".into(),
        activated: false,
    };
    onboarding
        .issue_card("savings-card", &savings_stored, card)
        .await?;
    let euro = open(
        onboarding,
        "euro",
        "Euro account",
        "checking",
        Currency::EUR,
    )
    .await?
    .account;
    deposit(
        onboarding,
        "euro-opening",
        &euro,
        20_000,
        "Opening deposit",
        now - Duration::days(20),
    )
    .await?;
    Ok(())
}

async fn open(
    onboarding: &Onboarding<'_>,
    step: &str,
    name: &str,
    type_id: &str,
    currency: Currency,
) -> Result<StoredAccount> {
    let request = OpenAccount {
        name: name.into(),
        type_id: type_id.into(),
        currency,
    };
    onboarding.open_account(step, request).await
}

async fn deposit(
    onboarding: &Onboarding<'_>,
    step: &str,
    account: &BoAccount,
    cents: i64,
    narrative: &str,
    value_at: OffsetDateTime,
) -> Result<()> {
    let deposit = Deposit {
        amount: Money::new(cents, account.ledger.currency),
        narrative: narrative.into(),
        value_at,
    };
    onboarding.deposit(step, &account.id_bo, deposit).await?;
    Ok(())
}
