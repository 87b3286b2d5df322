//! Back offices' own changes flowing into bankgate (a card purchase, an incoming credit, a settled
//! payment): each node follows every back office, but only the node holding a back office's lease in the
//! store does the work. A back office with a change feed is read from where bankgate stands, in order;
//! each entry names an account or a card, which is asked for as it now is and recorded through the same
//! store writes as a user's own reads, so the user's apps get their push events (and alerts fire) from
//! there. A back office without a feed has its customers refreshed on a schedule instead.
//!
//! Applying an entry twice changes nothing the second time (a copy that did not change appends no event),
//! so a pass cut off before it saved its position is simply repeated. Entries are applied in number
//! order; a feed whose numbers show a gap (a change still committing on the back office's side) is
//! applied up to the gap, and past it once the gap has lasted [`GAP_PATIENCE`]. The numbers passed over
//! are still looked for, one by one, for [`LATE_ENTRY_WATCH`]: a change that commits late is applied
//! when it shows up, and only a number that never does (a rolled-back change) is given up.

mod order;

pub use order::{Following, GAP_PATIENCE, LATE_ENTRY_WATCH};

use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::ChangedObject;
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_store::FeedPosition;
use order::{distinct_objects, in_order};
use std::time::Instant;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Feed entries read at once.
pub const FEED_BATCH: u32 = 200;
/// How far a back office's clock may run behind the times its feed gives.
const CLOCK_GRACE: time::Duration = time::Duration::minutes(1);
/// Customers refreshed per page of a scheduled refresh (the lease is renewed between pages).
const REFRESH_PAGE: u32 = 100;

/// What one pass over a back office did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FollowPass {
    /// Feed entries applied (or users refreshed, for a back office without a feed).
    pub applied: usize,
    /// The feed may hold more right now.
    pub more: bool,
}

impl Services {
    /// One pass over `back_office`, if this node holds (or takes) its lease.
    pub async fn follow_back_office(
        &self,
        back_office: &BackOfficeId,
        following: &mut Following,
    ) -> Result<FollowPass> {
        let Some(position) = self.lease_feed(back_office).await? else {
            return Ok(FollowPass::default());
        };
        let has_feed = !following.without_feed.contains(back_office)
            && self
                .back_offices
                .get(back_office)
                .is_ok_and(|bo| bo.changes().is_some());
        if !has_feed {
            return self.refresh_when_due(back_office, position).await;
        }
        match self.apply_feed(back_office, position, following).await? {
            Some(pass) => Ok(pass),
            None => {
                tracing::info!(%back_office, "no change feed: its customers are refreshed on schedule");
                following.without_feed.insert(back_office.clone());
                self.refresh_when_due(back_office, position).await
            }
        }
    }

    async fn lease_feed(&self, back_office: &BackOfficeId) -> Result<Option<FeedPosition>> {
        let now = self.clock.now();
        let until = now + self.settings.job_lease;
        Ok(self
            .store
            .lease_feed(back_office, &self.node_id, now, until)
            .await?)
    }

    /// Applies the next entries of the feed; None when the back office answers that it has no feed.
    async fn apply_feed(
        &self,
        back_office: &BackOfficeId,
        position: FeedPosition,
        following: &mut Following,
    ) -> Result<Option<FollowPass>> {
        let late = self.apply_late_entries(back_office, following).await?;
        let after = position.last_seq;
        let read = self
            .read_back_office(
                back_office,
                "changes.since",
                Entity::Account,
                |bo| async move { bo.require_changes()?.changes_since(after, FEED_BATCH).await },
            )
            .await;
        let changes = match read {
            Err(ServiceError::Unsupported(_)) => return Ok(None),
            other => other?,
        };
        let more = changes.len() == FEED_BATCH as usize;
        let (ready, upto) = in_order(back_office, after, changes, following);
        let mut leased_at = Instant::now();
        for (customer, object, since) in distinct_objects(&ready) {
            // A long pass renews its lease as a third of it runs out, and stops (applying nothing
            // more) once another node has it.
            if leased_at.elapsed() > self.settings.job_lease / 3 {
                if self.lease_feed(back_office).await?.is_none() {
                    return Ok(Some(FollowPass::default()));
                }
                leased_at = Instant::now();
            }
            match self
                .apply_change(back_office, customer, object, since)
                .await
            {
                Ok(()) => {}
                // Try again from here on the next pass.
                Err(ServiceError::BackOfficeUnavailable) => {
                    return Err(ServiceError::BackOfficeUnavailable)
                }
                // One object that cannot be recorded must not hold up every later change.
                Err(e) => {
                    tracing::warn!(%back_office, ?object, error = %e, "a back-office change was skipped")
                }
            }
        }
        if upto > after {
            self.store
                .advance_feed(back_office, &self.node_id, upto, self.clock.now())
                .await?;
        }
        Ok(Some(FollowPass {
            applied: late + ready.len(),
            more: more && upto > after,
        }))
    }

    /// Looks for the numbers of `back_office`'s feed passed over in a gap: applies those whose change has
    /// committed since, and gives up those watched for [`LATE_ENTRY_WATCH`]. How many it applied.
    async fn apply_late_entries(
        &self,
        back_office: &BackOfficeId,
        following: &mut Following,
    ) -> Result<usize> {
        let Some(watched) = following.late.remove(back_office) else {
            return Ok(0);
        };
        let mut applied = 0;
        let mut still_missing = Vec::new();
        let mut pending = watched.into_iter();
        while let Some((seq, since)) = pending.next() {
            let read = self
                .read_back_office(
                    back_office,
                    "changes.since",
                    Entity::Account,
                    |bo| async move { bo.require_changes()?.changes_since(seq - 1, 1).await },
                )
                .await;
            let found = match read {
                Ok(found) => found,
                Err(e) => {
                    still_missing.push((seq, since));
                    still_missing.extend(pending);
                    following.late.insert(back_office.clone(), still_missing);
                    return Err(e);
                }
            };
            match found.first() {
                Some(change) if change.seq == seq => {
                    let applying = self
                        .apply_change(
                            back_office,
                            &change.customer_id_bo,
                            &change.object,
                            change.at,
                        )
                        .await;
                    if let Err(e) = applying {
                        tracing::warn!(%back_office, seq, error = %e, "a late back-office change was skipped");
                    }
                    applied += 1;
                }
                // Not there yet: looked for again on the next pass.
                _ if since.elapsed() < LATE_ENTRY_WATCH => still_missing.push((seq, since)),
                // Long gone: a change that was rolled back.
                _ => {}
            }
        }
        if !still_missing.is_empty() {
            following.late.insert(back_office.clone(), still_missing);
        }
        Ok(applied)
    }

    /// Records what one entry names as the back office now reports it.
    async fn apply_change(
        &self,
        back_office: &BackOfficeId,
        customer: &BoRef,
        object: &ChangedObject,
        since: OffsetDateTime,
    ) -> Result<()> {
        let Some(user) = self.store.user_of_customer(back_office, customer).await? else {
            // A customer bankgate did not onboard: none of its users' business.
            return Ok(());
        };
        let result = match object {
            ChangedObject::Account(account) => {
                self.refresh_account(&user, back_office, account, since)
                    .await
            }
            ChangedObject::Card(card) => self.refresh_card(&user, back_office, card).await,
        };
        match result {
            // Gone since (closed, removed): there is nothing left to record.
            Err(ServiceError::NotFound(_)) => Ok(()),
            other => other,
        }
    }

    /// Records an account as the back office now reports it, and every transaction it lists since
    /// `since` (the first change of it this pass applies), however many.
    async fn refresh_account(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        account: &BoRef,
        since: OffsetDateTime,
    ) -> Result<()> {
        let fresh = self
            .read_back_office(
                back_office,
                "accounts.get",
                Entity::Account,
                |bo| async move { bo.require_accounts()?.get_account(account).await },
            )
            .await?;
        let recorded = self
            .store
            .record_accounts(user, back_office, &[fresh], self.clock.now())
            .await?;
        // The back office's clock may run a little behind bankgate's.
        let since = since - CLOCK_GRACE;
        for stored in recorded {
            self.record_transactions_since(user, &stored, since).await?;
        }
        Ok(())
    }

    /// Records a card as the back office now reports it.
    async fn refresh_card(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        card: &BoRef,
    ) -> Result<()> {
        let fresh = self
            .read_back_office(back_office, "cards.get", Entity::Card, |bo| async move {
                bo.require_cards()?.get_card(card).await
            })
            .await?;
        let links = self.links(user).await?;
        let Some(link) = links.iter().find(|l| &l.back_office_id == back_office) else {
            return Ok(());
        };
        let account = self.account_of(user, link, &fresh.account_id_bo).await?;
        self.record_cards(user, back_office, &[(fresh, account)])
            .await?;
        Ok(())
    }

    /// For a back office without a feed: refreshes every customer's accounts, cards and latest
    /// transactions once `back_office_refresh` has passed since the last time.
    async fn refresh_when_due(
        &self,
        back_office: &BackOfficeId,
        position: FeedPosition,
    ) -> Result<FollowPass> {
        let now = self.clock.now();
        let interval = self.settings.back_office_refresh;
        if position.refreshed_at.is_some_and(|at| now - at < interval) {
            return Ok(FollowPass::default());
        }
        let mut refreshed = 0;
        let mut after: Option<UserId> = None;
        loop {
            let users = self
                .store
                .customers_of(back_office, after.as_ref(), REFRESH_PAGE)
                .await?;
            for user in &users {
                match self.refresh_customer(user, back_office).await {
                    Ok(()) => {}
                    Err(ServiceError::BackOfficeUnavailable) => {
                        return Err(ServiceError::BackOfficeUnavailable)
                    }
                    // One customer that cannot be refreshed must not keep the others from it.
                    Err(e) => {
                        tracing::warn!(%back_office, %user, error = %e, "a customer's refresh failed")
                    }
                }
            }
            refreshed += users.len();
            if users.len() < REFRESH_PAGE as usize || self.lease_feed(back_office).await?.is_none()
            {
                break;
            }
            after = users.last().cloned();
        }
        self.store
            .feed_refreshed(back_office, &self.node_id, self.clock.now())
            .await?;
        Ok(FollowPass {
            applied: refreshed,
            more: false,
        })
    }

    async fn refresh_customer(&self, user: &UserId, back_office: &BackOfficeId) -> Result<()> {
        let links = self.links(user).await?;
        let Some(link) = links.iter().find(|l| &l.back_office_id == back_office) else {
            return Ok(());
        };
        let accounts = self.refresh_accounts(user, link).await?;
        if self
            .back_offices
            .get(back_office)
            .is_ok_and(|bo| bo.cards().is_some())
        {
            self.refresh_cards(user, link).await?;
        }
        for account in &accounts {
            self.record_latest_transactions(user, account).await?;
        }
        Ok(())
    }
}

/// Starts this node's follower of every back office: a pass over each every `change_feed_poll`, at once
/// again while a feed has more. Stops when `stop` turns true.
pub fn spawn_back_office_follower(
    services: Services,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut following = Following::default();
        let ids: Vec<BackOfficeId> = services.back_offices.ids().cloned().collect();
        while !*stop.borrow() {
            let mut more = false;
            for id in &ids {
                match services.follow_back_office(id, &mut following).await {
                    Ok(pass) => more |= pass.more,
                    // Unavailable back offices are the circuit breaker's to report; the next pass
                    // starts again from the saved position.
                    Err(ServiceError::BackOfficeUnavailable) => {}
                    Err(e) => {
                        tracing::warn!(back_office = %id, error = %e, "following a back office failed")
                    }
                }
            }
            if more {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(services.settings.change_feed_poll) => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
        }
    })
}
