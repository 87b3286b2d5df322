//! What protects bankgate from a back office that is slow or down: a deadline on every call, and a
//! circuit breaker per back office. After `failures_to_open` calls in a row fail for want of an answer
//! (unreachable, timed out, failed on its side), the circuit opens and calls fail at once, without
//! waiting on a back office known to be down; after `cool_down` one call is let through as a probe, and
//! its answer closes the circuit or opens it again. A business answer (a refusal, an unknown object) is
//! an answer: it counts as the back office being up.
//!
//! Operations can also put a back office in **maintenance**: its circuit refuses every call until taken
//! out again, so bankgate stands in for it deliberately (a planned outage) instead of discovering it.
//!
//! Time here is real time (`Instant`), not the injectable clock: deadlines and cool-downs are about how
//! long a remote system takes, which a test clock cannot speed up.

use crate::BackOfficeError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How calls to every back office are bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResiliencePolicy {
    /// The longest a single call may take.
    pub deadline: Duration,
    /// Consecutive unanswered calls that open the circuit.
    pub failures_to_open: u32,
    /// How long an open circuit refuses calls before letting a probe through.
    pub cool_down: Duration,
    /// Further attempts a call that is safe to repeat gets after failing fast for want of an answer.
    pub retries: u32,
    /// The wait before the first of those attempts; it doubles for each next one, plus up to half again
    /// of jitter.
    pub retry_backoff: Duration,
}

impl Default for ResiliencePolicy {
    fn default() -> Self {
        ResiliencePolicy {
            deadline: Duration::from_secs(3),
            failures_to_open: 5,
            cool_down: Duration::from_secs(5),
            retries: 2,
            retry_backoff: Duration::from_millis(50),
        }
    }
}

/// A circuit's state as operations see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls fail at once until the cool-down ends.
    Open,
    /// The cool-down has ended; the next call is the probe.
    HalfOpen,
    /// Operations took the back office out of service: calls fail at once until it is put back.
    Maintenance,
}

impl CircuitState {
    pub fn as_str(&self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
            CircuitState::Maintenance => "maintenance",
        }
    }
}

#[derive(Debug)]
enum Inner {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A probe is out; other calls wait for its answer by failing at once.
    Probing,
}

/// One back office's circuit.
#[derive(Debug)]
pub struct CircuitBreaker {
    policy: ResiliencePolicy,
    inner: Mutex<Inner>,
    maintenance: AtomicBool,
}

/// Whether a call may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Go,
    /// The circuit is open: fail at once.
    Refused,
    /// The back office is in maintenance: fail at once.
    Maintenance,
}

impl CircuitBreaker {
    pub fn new(policy: ResiliencePolicy) -> Self {
        CircuitBreaker {
            policy,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
            maintenance: AtomicBool::new(false),
        }
    }

    /// Takes the back office out of service (`true`) or puts it back (`false`). Putting it back closes
    /// the circuit: operations know it is up.
    pub fn set_maintenance(&self, on: bool) {
        self.maintenance.store(on, Ordering::SeqCst);
        if !on {
            *self.lock() = Inner::Closed { failures: 0 };
        }
    }

    pub fn state(&self) -> CircuitState {
        if self.in_maintenance() {
            return CircuitState::Maintenance;
        }
        match &*self.lock() {
            Inner::Closed { .. } => CircuitState::Closed,
            Inner::Open { until } if Instant::now() >= *until => CircuitState::HalfOpen,
            Inner::Open { .. } => CircuitState::Open,
            Inner::Probing => CircuitState::HalfOpen,
        }
    }

    pub(crate) fn admit(&self) -> Admission {
        if self.in_maintenance() {
            return Admission::Maintenance;
        }
        let mut inner = self.lock();
        match &*inner {
            Inner::Closed { .. } => Admission::Go,
            Inner::Open { until } if Instant::now() >= *until => {
                *inner = Inner::Probing;
                Admission::Go
            }
            Inner::Open { .. } | Inner::Probing => Admission::Refused,
        }
    }

    /// Records how an admitted call ended. True when this answer closed an open circuit: the back
    /// office is back.
    pub(crate) fn record(&self, answered: bool) -> bool {
        let mut inner = self.lock();
        let was_closed = matches!(&*inner, Inner::Closed { .. });
        *inner = match (&*inner, answered) {
            (_, true) => Inner::Closed { failures: 0 },
            (Inner::Closed { failures }, false) if failures + 1 < self.policy.failures_to_open => {
                Inner::Closed {
                    failures: failures + 1,
                }
            }
            (_, false) => Inner::Open {
                until: Instant::now() + self.policy.cool_down,
            },
        };
        answered && !was_closed
    }

    fn in_maintenance(&self) -> bool {
        self.maintenance.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the state half-written (every write is one
        // assignment), so a poisoned lock is still good to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether an outcome means the back office answered.
pub(crate) fn answered<T>(result: &Result<T, BackOfficeError>) -> bool {
    !matches!(
        result,
        Err(BackOfficeError::Unavailable(_) | BackOfficeError::Internal(_))
    )
}

impl ResiliencePolicy {
    /// Whether a call that failed unanswered after `elapsed` on attempt `attempt` (0 for the first)
    /// is worth another try: only a fast failure (refused, reset, an error from its side) is; a call that
    /// used up a good part of its deadline is not repeated, so repeating never multiplies the deadline.
    pub(crate) fn retry_after(&self, attempt: u32, elapsed: Duration) -> Option<Duration> {
        if attempt >= self.retries || elapsed > self.deadline / 4 {
            return None;
        }
        let base = self.retry_backoff.saturating_mul(1 << attempt.min(16));
        let jitter = base.mul_f64(rand::random::<f64>() * 0.5);
        Some(base + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(cool_down: Duration) -> CircuitBreaker {
        CircuitBreaker::new(ResiliencePolicy {
            deadline: Duration::from_secs(1),
            failures_to_open: 3,
            cool_down,
            ..ResiliencePolicy::default()
        })
    }

    #[test]
    fn only_fast_failures_are_retried_a_bounded_number_of_times_with_growing_jittered_waits() {
        let policy = ResiliencePolicy {
            deadline: Duration::from_secs(1),
            retries: 2,
            retry_backoff: Duration::from_millis(100),
            ..ResiliencePolicy::default()
        };
        let fast = Duration::from_millis(10);
        let first = policy.retry_after(0, fast).unwrap();
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(150));
        let second = policy.retry_after(1, fast).unwrap();
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(300));
        assert_eq!(policy.retry_after(2, fast), None, "bounded");
        assert_eq!(
            policy.retry_after(0, Duration::from_millis(400)),
            None,
            "a slow failure is not repeated"
        );
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let b = breaker(Duration::from_secs(60));
        b.record(false);
        b.record(false);
        b.record(true);
        b.record(false);
        b.record(false);
        assert_eq!(b.state(), CircuitState::Closed);
        assert_eq!(b.admit(), Admission::Go);
        b.record(false);
        assert_eq!(b.state(), CircuitState::Open);
        assert_eq!(b.admit(), Admission::Refused);
    }

    #[test]
    fn one_probe_after_the_cool_down_decides() {
        let b = breaker(Duration::ZERO);
        for _ in 0..3 {
            b.record(false);
        }
        assert_eq!(b.state(), CircuitState::HalfOpen);
        assert_eq!(b.admit(), Admission::Go, "the probe");
        assert_eq!(b.admit(), Admission::Refused, "others wait for the probe");
        assert!(!b.record(false));
        assert_eq!(b.admit(), Admission::Go, "cool-down of zero: probe again");
        assert!(b.record(true), "the probe's answer reports the recovery");
        assert_eq!(b.state(), CircuitState::Closed);
        assert!(
            !b.record(true),
            "a closed circuit has nothing to recover from"
        );
        assert_eq!(b.admit(), Admission::Go);
        assert_eq!(b.admit(), Admission::Go);
    }

    #[test]
    fn maintenance_refuses_every_call_until_lifted() {
        let b = breaker(Duration::from_secs(60));
        b.set_maintenance(true);
        assert_eq!(b.state(), CircuitState::Maintenance);
        assert_eq!(b.admit(), Admission::Maintenance);
        for _ in 0..3 {
            b.record(false);
        }
        b.set_maintenance(false);
        assert_eq!(
            b.state(),
            CircuitState::Closed,
            "lifting it closes the circuit"
        );
        assert_eq!(b.admit(), Admission::Go);
    }

    #[test]
    fn business_answers_count_as_up() {
        let refused: Result<(), _> = Err(BackOfficeError::Rejected {
            code: "X",
            message: "no".into(),
        });
        assert!(answered(&refused));
        assert!(answered(&Err::<(), _>(BackOfficeError::NotFound("card"))));
        assert!(!answered(&Err::<(), _>(BackOfficeError::Unavailable(
            "down".into()
        ))));
        assert!(!answered(&Err::<(), _>(BackOfficeError::Internal(
            "500".into()
        ))));
    }
}
