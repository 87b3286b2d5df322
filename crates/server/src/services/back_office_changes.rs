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
//! applied up to the gap, and past it only once the gap has lasted [`GAP_PATIENCE`].

use super::{Entity, Result, ServiceError, Services};
use bankgate_backoffice::{BoChange, ChangedObject};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_store::FeedPosition;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Feed entries read at once.
pub const FEED_BATCH: u32 = 200;
/// How long a gap in a feed's numbers is waited for before it is taken for a rolled-back change.
pub const GAP_PATIENCE: Duration = Duration::from_secs(10);
/// Customers refreshed per page of a scheduled refresh (the lease is renewed between pages).
const REFRESH_PAGE: u32 = 100;

/// Gaps seen in feeds, by back office: the first missing number and when it was first seen.
#[derive(Debug, Default)]
pub struct GapWatch {
    open: HashMap<BackOfficeId, (i64, Instant)>,
}

impl GapWatch {
    /// Whether the gap before number `missing` of `back_office` has lasted long enough to pass.
    fn waited_out(&mut self, back_office: &BackOfficeId, missing: i64) -> bool {
        match self.open.get(back_office) {
            Some(&(seq, since)) if seq == missing => since.elapsed() >= GAP_PATIENCE,
            _ => {
                self.open
                    .insert(back_office.clone(), (missing, Instant::now()));
                false
            }
        }
    }
}

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
        gaps: &mut GapWatch,
    ) -> Result<FollowPass> {
        let Some(position) = self.lease_feed(back_office).await? else {
            return Ok(FollowPass::default());
        };
        let has_feed = self
            .back_offices
            .get(back_office)
            .is_ok_and(|bo| bo.changes().is_some());
        if has_feed {
            self.apply_feed(back_office, position, gaps).await
        } else {
            self.refresh_when_due(back_office, position).await
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

    async fn apply_feed(
        &self,
        back_office: &BackOfficeId,
        position: FeedPosition,
        gaps: &mut GapWatch,
    ) -> Result<FollowPass> {
        let after = position.last_seq;
        let changes = self
            .read_back_office(
                back_office,
                "changes.since",
                Entity::Account,
                |bo| async move { bo.require_changes()?.changes_since(after, FEED_BATCH).await },
            )
            .await?;
        let more = changes.len() == FEED_BATCH as usize;
        let (ready, upto) = in_order(back_office, after, changes, gaps);
        for (customer, object) in distinct_objects(&ready) {
            self.apply_change(back_office, customer, object).await?;
        }
        if upto > after {
            self.store
                .advance_feed(back_office, &self.node_id, upto)
                .await?;
        }
        Ok(FollowPass {
            applied: ready.len(),
            more: more && upto > after,
        })
    }

    /// Records what one entry names as the back office now reports it.
    async fn apply_change(
        &self,
        back_office: &BackOfficeId,
        customer: &BoRef,
        object: &ChangedObject,
    ) -> Result<()> {
        let Some(user) = self.store.user_of_customer(back_office, customer).await? else {
            // A customer bankgate did not onboard: none of its users' business.
            return Ok(());
        };
        let result = match object {
            ChangedObject::Account(account) => {
                self.refresh_account(&user, back_office, account).await
            }
            ChangedObject::Card(card) => self.refresh_card(&user, back_office, card).await,
        };
        match result {
            // Gone since (closed, removed): there is nothing left to record.
            Err(ServiceError::NotFound(_)) => Ok(()),
            other => other,
        }
    }

    /// Records an account and its latest transactions as the back office now reports them.
    async fn refresh_account(
        &self,
        user: &UserId,
        back_office: &BackOfficeId,
        account: &BoRef,
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
        for stored in recorded {
            self.record_latest_transactions(user, &stored).await?;
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
                self.refresh_customer(user, back_office).await?;
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

/// The entries that can be applied now, in order, and the number up to which the feed is then applied:
/// everything before the first gap that has not yet been waited out.
fn in_order(
    back_office: &BackOfficeId,
    after: i64,
    changes: Vec<BoChange>,
    gaps: &mut GapWatch,
) -> (Vec<BoChange>, i64) {
    let mut upto = after;
    let mut ready = Vec::with_capacity(changes.len());
    for change in changes {
        if change.seq <= upto {
            continue;
        }
        if change.seq != upto + 1 && !gaps.waited_out(back_office, upto + 1) {
            break;
        }
        upto = change.seq;
        ready.push(change);
    }
    (ready, upto)
}

/// Each object the entries name, once, in the order first named: its latest state covers them all.
fn distinct_objects(changes: &[BoChange]) -> Vec<(&BoRef, &ChangedObject)> {
    let mut seen = Vec::new();
    for change in changes {
        let key = (&change.customer_id_bo, &change.object);
        if !seen.contains(&key) {
            seen.push(key);
        }
    }
    seen
}

/// Starts this node's follower of every back office: a pass over each every `change_feed_poll`, at once
/// again while a feed has more. Stops when `stop` turns true.
pub fn spawn_back_office_follower(
    services: Services,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut gaps = GapWatch::default();
        let ids: Vec<BackOfficeId> = services.back_offices.ids().cloned().collect();
        while !*stop.borrow() {
            let mut more = false;
            for id in &ids {
                match services.follow_back_office(id, &mut gaps).await {
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
