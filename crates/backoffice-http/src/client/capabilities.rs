//! Each capability trait of [`HttpBackOffice`]: one route of the back-office API per method, as
//! [`crate::server`] serves them.

use super::{HttpBackOffice, Result};
use crate::wire::{CardSwitch, CreatedRef, NewPin, Reissue, RenameAccount, RestrictionPatch};
use async_trait::async_trait;
use bankgate_backoffice::{
    AccountsApi, AuthorizationOutcome, AuthorizationRequest, BoAccount, BoCard, BoChange,
    BoTransaction, BookTransfer, CardAuthorizationApi, CardToVault, CardsApi, ChangesApi,
    CustomersApi, Deposit, IdempotencyKey, IssueCard, NewCustomer, OpenAccount, PaymentsApi,
    Payout, RateBoard, RatesApi, SettlementLeg, TransactionQuery, TransferLegs, TransfersApi,
};
use bankgate_domain::card::{Pin, ReissueReason};
use bankgate_domain::ids::BoRef;
use bankgate_domain::restrictions::RestrictionUpdate;
use reqwest::Method;

#[async_trait]
impl CustomersApi for HttpBackOffice {
    async fn create_customer(&self, customer: &NewCustomer, key: &IdempotencyKey) -> Result<BoRef> {
        let created: CreatedRef = self
            .send(self.post_keyed(&["customers"], key, customer))
            .await?;
        Ok(created.id_bo)
    }
}

#[async_trait]
impl AccountsApi for HttpBackOffice {
    async fn list_accounts(&self, customer: &BoRef) -> Result<Vec<BoAccount>> {
        self.send(self.request(Method::GET, &["customers", customer.as_str(), "accounts"]))
            .await
    }

    async fn get_account(&self, account: &BoRef) -> Result<BoAccount> {
        self.send(self.request(Method::GET, &["accounts", account.as_str()]))
            .await
    }

    async fn open_account(
        &self,
        customer: &BoRef,
        request: &OpenAccount,
        key: &IdempotencyKey,
    ) -> Result<BoAccount> {
        let path = ["customers", customer.as_str(), "accounts"];
        self.send(self.post_keyed(&path, key, request)).await
    }

    async fn rename_account(&self, account: &BoRef, name: &str) -> Result<BoAccount> {
        let body = RenameAccount {
            name: name.to_owned(),
        };
        let request = self.request(Method::PATCH, &["accounts", account.as_str()]);
        self.send(request.json(&body)).await
    }

    async fn list_transactions(
        &self,
        account: &BoRef,
        query: &TransactionQuery,
    ) -> Result<Vec<BoTransaction>> {
        let path = ["accounts", account.as_str(), "transactions", "query"];
        self.send(self.request(Method::POST, &path).json(query))
            .await
    }

    async fn deposit(
        &self,
        account: &BoRef,
        deposit: &Deposit,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction> {
        let path = ["accounts", account.as_str(), "deposits"];
        self.send(self.post_keyed(&path, key, deposit)).await
    }
}

#[async_trait]
impl CardsApi for HttpBackOffice {
    async fn list_cards(&self, customer: &BoRef) -> Result<Vec<BoCard>> {
        self.send(self.request(Method::GET, &["customers", customer.as_str(), "cards"]))
            .await
    }

    async fn get_card(&self, card: &BoRef) -> Result<BoCard> {
        self.send(self.request(Method::GET, &["cards", card.as_str()]))
            .await
    }

    async fn issue_card(
        &self,
        account: &BoRef,
        request: &IssueCard,
        key: &IdempotencyKey,
    ) -> Result<BoCard> {
        let path = ["accounts", account.as_str(), "cards"];
        self.send(self.post_keyed(&path, key, request)).await
    }

    async fn activate_card(&self, card: &BoRef) -> Result<BoCard> {
        self.send(self.request(Method::POST, &["cards", card.as_str(), "activate"]))
            .await
    }

    async fn set_card_enabled(&self, card: &BoRef, enabled: bool) -> Result<BoCard> {
        let request = self.request(Method::PUT, &["cards", card.as_str(), "enabled"]);
        self.send(request.json(&CardSwitch { enabled })).await
    }

    async fn set_pin(&self, card: &BoRef, pin: &Pin) -> Result<()> {
        let body = NewPin {
            pin: pin.digits().to_owned(),
        };
        let request = self.request(Method::PUT, &["cards", card.as_str(), "pin"]);
        self.send_no_content(request.json(&body)).await
    }

    async fn reissue_card(&self, card: &BoRef, reason: ReissueReason) -> Result<BoCard> {
        let request = self.request(Method::POST, &["cards", card.as_str(), "reissue"]);
        self.send(request.json(&Reissue { reason })).await
    }

    async fn update_restrictions(
        &self,
        card: &BoRef,
        update: &RestrictionUpdate,
    ) -> Result<BoCard> {
        let request = self.request(Method::PATCH, &["cards", card.as_str(), "restrictions"]);
        self.send(request.json(&RestrictionPatch::from(update)))
            .await
    }
}

#[async_trait]
impl CardAuthorizationApi for HttpBackOffice {
    async fn authorize(&self, request: &AuthorizationRequest) -> Result<AuthorizationOutcome> {
        self.send(
            self.request(Method::POST, &["authorizations"])
                .json(request),
        )
        .await
    }
}

#[async_trait]
impl TransfersApi for HttpBackOffice {
    async fn book_transfer(
        &self,
        transfer: &BookTransfer,
        key: &IdempotencyKey,
    ) -> Result<TransferLegs> {
        self.send(self.post_keyed(&["transfers", "book"], key, transfer))
            .await
    }

    async fn debit_to_settlement(
        &self,
        leg: &SettlementLeg,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction> {
        let path = ["transfers", "debit-to-settlement"];
        self.send(self.post_keyed(&path, key, leg)).await
    }

    async fn credit_from_settlement(
        &self,
        leg: &SettlementLeg,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction> {
        let path = ["transfers", "credit-from-settlement"];
        self.send(self.post_keyed(&path, key, leg)).await
    }
}

#[async_trait]
impl PaymentsApi for HttpBackOffice {
    async fn pay_out(&self, payout: &Payout, key: &IdempotencyKey) -> Result<BoTransaction> {
        self.send(self.post_keyed(&["payouts"], key, payout)).await
    }

    async fn vault_card(&self, card: &CardToVault, key: &IdempotencyKey) -> Result<BoRef> {
        let created: CreatedRef = self
            .send(self.post_keyed(&["vault", "cards"], key, card))
            .await?;
        Ok(created.id_bo)
    }
}

#[async_trait]
impl RatesApi for HttpBackOffice {
    async fn rate_board(&self) -> Result<RateBoard> {
        self.send(self.request(Method::GET, &["rates"])).await
    }
}

#[async_trait]
impl ChangesApi for HttpBackOffice {
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<BoChange>> {
        let (after, limit) = (after.to_string(), limit.to_string());
        self.send(self.request(Method::GET, &["changes", &after, &limit]))
            .await
    }
}
