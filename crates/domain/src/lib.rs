//! bankgate's domain vocabulary, shared by every layer: money in minor units, opaque ids, time and the
//! clock, and the card rules (PINs, restrictions, masking) that both the middleware and the sandbox back
//! offices must agree on. Nothing here does I/O.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod beneficiary;
pub mod card;
pub mod clock;
pub mod ids;
pub mod mask;
pub mod money;
pub mod patch;
pub mod rate;
pub mod restrictions;
pub mod routing;
pub mod time_format;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use money::{Currency, Money, MoneyError};
pub use rate::Rate;
