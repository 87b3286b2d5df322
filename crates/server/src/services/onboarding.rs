//! Onboarding: creating a user and opening their products at back offices, through the same back-office
//! traits a production onboarding flow would use. Every back-office step carries an idempotency key
//! derived from the user name and the step, so a repeated onboarding creates nothing twice.

use super::auth::hash_password;
use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{
    BoCard, BoTransaction, Deposit, IdempotencyKey, IssueCard, NewCustomer, OpenAccount,
};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::user::UserProfile;
use bankgate_store::{AccountPrefs, NewUser, StoreError, StoredAccount};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUserSpec {
    pub user_name: String,
    pub password: String,
    pub profile: UserProfile,
}

/// One user's onboarding at one back office.
pub struct Onboarding<'a> {
    services: &'a Services,
    user: UserId,
    user_name: String,
    back_office: BackOfficeId,
    customer: BoRef,
}

impl Services {
    pub async fn register_user(&self, spec: NewUserSpec) -> Result<UserId> {
        let id = UserId::generate();
        let password = spec.password;
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| ServiceError::Internal(format!("password hashing: {e}")))??;
        let user = NewUser {
            id: id.clone(),
            user_name: spec.user_name,
            password_hash,
            profile: spec.profile,
            created_at: self.clock.now(),
        };
        self.store.create_user(&user).await.map_err(|e| match e {
            StoreError::Conflict(_) => {
                ServiceError::invalid("USER_NAME_TAKEN", "that user name is taken")
            }
            other => other.into(),
        })?;
        Ok(id)
    }

    /// Makes the user a customer of `back_office` and links the two.
    pub async fn onboard_at(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
    ) -> Result<Onboarding<'_>> {
        let record = self
            .store
            .get_user(user)
            .await?
            .ok_or(ServiceError::NotFound(Entity::User))?;
        let customer = NewCustomer {
            first_name: record.profile.name.first_name.clone(),
            last_name: record.profile.name.last_name.clone(),
        };
        let key = IdempotencyKey(format!(
            "onboard:{}:{}:customer",
            record.user_name, back_office
        ));
        let (customer, key) = (&customer, &key);
        let customer_ref = self
            .call_back_office(
                back_office,
                "customers.create",
                Entity::User,
                |bo| async move { bo.require_customers()?.create_customer(customer, key).await },
            )
            .await?;
        self.link_back_office(user, back_office, &customer_ref)
            .await?;
        Ok(Onboarding {
            services: self,
            user: user.clone(),
            user_name: record.user_name,
            back_office: back_office.clone(),
            customer: customer_ref,
        })
    }
}

impl Onboarding<'_> {
    fn key(&self, step: &str) -> IdempotencyKey {
        IdempotencyKey(format!(
            "onboard:{}:{}:{step}",
            self.user_name, self.back_office
        ))
    }

    /// Opens an account; `step` names it uniquely within this user's onboarding.
    pub async fn open_account(&self, step: &str, request: OpenAccount) -> Result<StoredAccount> {
        let (customer, key, request) = (&self.customer, &self.key(step), &request);
        let account = self
            .services
            .call_back_office(
                &self.back_office,
                "accounts.open",
                Entity::Account,
                |bo| async move {
                    bo.require_accounts()?
                        .open_account(customer, request, key)
                        .await
                },
            )
            .await?;
        let now = self.services.clock.now();
        let recorded = self
            .services
            .store
            .record_accounts(&self.user, &self.back_office, &[account], now)
            .await?;
        recorded
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound(Entity::Account))
    }

    /// Makes the account the user's main account.
    pub async fn make_main(&self, account: &StoredAccount) -> Result<()> {
        let prefs = AccountPrefs {
            is_main: true,
            ..account.prefs.clone()
        };
        self.services
            .store
            .set_account_prefs(&self.user, &account.id, &prefs, self.services.clock.now())
            .await?;
        Ok(())
    }

    pub async fn deposit(
        &self,
        step: &str,
        account: &BoRef,
        deposit: Deposit,
    ) -> Result<BoTransaction> {
        let (key, deposit) = (&self.key(step), &deposit);
        self.services
            .call_back_office(
                &self.back_office,
                "accounts.deposit",
                Entity::Account,
                |bo| async move { bo.require_accounts()?.deposit(account, deposit, key).await },
            )
            .await
    }

    /// Issues a card on an account opened in this onboarding and records it.
    pub async fn issue_card(
        &self,
        step: &str,
        account: &StoredAccount,
        request: IssueCard,
    ) -> Result<BoCard> {
        let (key, request, account_ref) = (&self.key(step), &request, &account.account.id_bo);
        let card = self
            .services
            .call_back_office(
                &self.back_office,
                "cards.issue",
                Entity::Card,
                |bo| async move {
                    bo.require_cards()?
                        .issue_card(account_ref, request, key)
                        .await
                },
            )
            .await?;
        let issued = [(card.clone(), account.id.clone())];
        self.services
            .record_cards(&self.user, &self.back_office, &issued)
            .await?;
        Ok(card)
    }
}

impl Onboarding<'_> {
    /// A card purchase through the back office's card network simulator, at a chosen (past) time.
    pub async fn purchase(
        &self,
        card: &BoRef,
        purchase: bankgate_backoffice::AuthorizationRequest,
    ) -> Result<()> {
        let request = &purchase;
        let outcome = self
            .services
            .call_back_office(
                &self.back_office,
                "cards.authorize",
                Entity::Card,
                |bo| async move { bo.require_card_authorization()?.authorize(request).await },
            )
            .await?;
        match outcome {
            bankgate_backoffice::AuthorizationOutcome::Approved { .. } => Ok(()),
            bankgate_backoffice::AuthorizationOutcome::Declined { reason } => {
                Err(ServiceError::Internal(format!(
                    "onboarding purchase on card {card} declined: {}",
                    reason.as_str()
                )))
            }
        }
    }
}
