//! Each customer's account list as last read, kept while nothing has been written to the sandbox since.
//! Listing a customer's accounts is the sandbox's most frequent read (every `GET /accounts` of every
//! user asks it), and between two writes its answer cannot change. The write generation of the
//! sandbox's database says whether anything was written: an answer is kept only when the generation
//! was the same before and after the read, and served only while it still is, so no answer outlives a
//! write that could change it.

use bankgate_backoffice::BoAccount;
use bankgate_domain::ids::BoRef;
use std::collections::HashMap;
use std::sync::Mutex;

/// Customers whose lists are kept at most; past it the kept lists are dropped and gathered again.
const MOST_CUSTOMERS: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct AccountLists {
    kept: Mutex<HashMap<BoRef, (u64, Vec<BoAccount>)>>,
}

impl AccountLists {
    /// The customer's list, if it was read at `generation`.
    pub(crate) fn get(&self, customer: &BoRef, generation: u64) -> Option<Vec<BoAccount>> {
        let kept = self.lock();
        match kept.get(customer) {
            Some((read_at, accounts)) if *read_at == generation => Some(accounts.clone()),
            _ => None,
        }
    }

    /// Keeps `accounts`, read while the generation stayed `generation`.
    pub(crate) fn keep(&self, customer: &BoRef, generation: u64, accounts: &[BoAccount]) {
        let mut kept = self.lock();
        if kept.len() >= MOST_CUSTOMERS && !kept.contains_key(customer) {
            kept.clear();
        }
        kept.insert(customer.clone(), (generation, accounts.to_vec()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BoRef, (u64, Vec<BoAccount>)>> {
        // Entries are replaced whole; a panic elsewhere cannot leave one half-written.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
