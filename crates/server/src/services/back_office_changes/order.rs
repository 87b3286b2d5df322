//! The order in which a follower applies a feed's entries: up to a gap, past it once the gap has lasted
//! [`GAP_PATIENCE`], with the numbers passed over watched for a late commit; and each object named in a
//! batch once.

use bankgate_backoffice::{BoChange, ChangedObject};
use bankgate_domain::ids::{BackOfficeId, BoRef};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a gap in a feed's numbers holds up the entries after it.
pub const GAP_PATIENCE: Duration = Duration::from_secs(2);
/// How long a number passed over is still looked for before it is taken for a rolled-back change.
pub const LATE_ENTRY_WATCH: Duration = Duration::from_secs(600);
/// The most passed-over numbers watched per back office.
const LATE_ENTRIES_WATCHED: usize = 1_000;
/// What a node's follower remembers between passes: the gaps seen in feeds (the first missing number
/// and when it was first seen), the numbers passed over and still looked for, and the back offices
/// found to offer no feed after all (one reached over HTTP answers that it does not).
#[derive(Debug, Default)]
pub struct Following {
    gaps: HashMap<BackOfficeId, (i64, Instant)>,
    pub(super) late: HashMap<BackOfficeId, Vec<(i64, Instant)>>,
    pub(super) without_feed: HashSet<BackOfficeId>,
}

impl Following {
    /// Whether the gap before number `missing` of `back_office` has lasted long enough to pass.
    fn waited_out(&mut self, back_office: &BackOfficeId, missing: i64) -> bool {
        match self.gaps.get(back_office) {
            Some(&(seq, since)) if seq == missing => since.elapsed() >= GAP_PATIENCE,
            _ => {
                self.gaps
                    .insert(back_office.clone(), (missing, Instant::now()));
                false
            }
        }
    }

    /// Remembers numbers `from..to` of `back_office`, passed over, to look for them again.
    fn watch_late(&mut self, back_office: &BackOfficeId, from: i64, to: i64) {
        let watched = self.late.entry(back_office.clone()).or_default();
        let room = LATE_ENTRIES_WATCHED.saturating_sub(watched.len());
        watched.extend((from..to).take(room).map(|seq| (seq, Instant::now())));
    }
}

/// The entries that can be applied now, in order, and the number up to which the feed is then applied:
/// everything before the first gap that has not yet been waited out.
pub(super) fn in_order(
    back_office: &BackOfficeId,
    after: i64,
    changes: Vec<BoChange>,
    following: &mut Following,
) -> (Vec<BoChange>, i64) {
    let mut upto = after;
    let mut ready = Vec::with_capacity(changes.len());
    for change in changes {
        if change.seq <= upto {
            continue;
        }
        if change.seq != upto + 1 {
            if !following.waited_out(back_office, upto + 1) {
                break;
            }
            following.watch_late(back_office, upto + 1, change.seq);
        }
        upto = change.seq;
        ready.push(change);
    }
    (ready, upto)
}

/// Each object the entries name, once, in the order first named, with its first change's time: its
/// latest state covers them all.
pub(super) fn distinct_objects(
    changes: &[BoChange],
) -> Vec<(&BoRef, &ChangedObject, OffsetDateTime)> {
    let mut seen: Vec<(&BoRef, &ChangedObject, OffsetDateTime)> = Vec::new();
    for change in changes {
        let known = seen.iter_mut().find(|(customer, object, _)| {
            *customer == &change.customer_id_bo && *object == &change.object
        });
        match known {
            Some(entry) => entry.2 = entry.2.min(change.at),
            None => seen.push((&change.customer_id_bo, &change.object, change.at)),
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entries(seqs: &[i64]) -> Vec<BoChange> {
        seqs.iter()
            .map(|&seq| BoChange {
                seq,
                customer_id_bo: BoRef("cus_1".into()),
                object: ChangedObject::Account(BoRef(format!("acc_{seq}"))),
                at: datetime!(2025-01-15 12:00 UTC),
            })
            .collect()
    }

    fn seqs(changes: &[BoChange]) -> Vec<i64> {
        changes.iter().map(|c| c.seq).collect()
    }

    #[test]
    fn a_gap_holds_up_later_entries_until_waited_out_and_is_then_watched() {
        let office = BackOfficeId::from_trusted("sandbox-a".into());
        let mut following = Following::default();
        let (ready, upto) = in_order(&office, 3, entries(&[4, 5, 8, 9]), &mut following);
        assert_eq!((seqs(&ready), upto), (vec![4, 5], 5));
        assert!(following.late.is_empty());

        // The same gap, seen again before its patience ran out: still held.
        let (ready, upto) = in_order(&office, 5, entries(&[8, 9]), &mut following);
        assert_eq!((seqs(&ready), upto), (vec![], 5));

        // Waited out: passed, and 6 and 7 are watched for a late commit.
        let long_ago = Instant::now() - GAP_PATIENCE - Duration::from_millis(1);
        following.gaps.insert(office.clone(), (6, long_ago));
        let (ready, upto) = in_order(&office, 5, entries(&[8, 9]), &mut following);
        assert_eq!((seqs(&ready), upto), (vec![8, 9], 9));
        let watched: Vec<i64> = following.late[&office]
            .iter()
            .map(|(seq, _)| *seq)
            .collect();
        assert_eq!(watched, [6, 7]);
    }

    #[test]
    fn entries_naming_one_object_are_applied_once_from_the_first_changes_time() {
        let mut changes = entries(&[1, 2]);
        changes[1].object = changes[0].object.clone();
        changes[0].at = datetime!(2025-01-14 9:00 UTC);
        let objects = distinct_objects(&changes);
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].2, datetime!(2025-01-14 9:00 UTC));
    }
}
