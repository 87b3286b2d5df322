//! Card restrictions as the contract defines them: days of the week, time-of-day ranges and one of two
//! MCC lists. [`RestrictionUpdate::apply_to`] holds the contract's update rules and
//! [`CardRestrictions::check`] the decision a card authorization makes from them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::PrimitiveDateTime;

pub use crate::patch::Patch;

/// Boolean flags keyed by the contract's string keys ("0".."6", "am9pm5", "5411").
pub type FlagMap = BTreeMap<String, bool>;

/// The restrictions in force on a card. A `None` list means "no restriction of that kind".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CardRestrictions {
    pub day_of_week: Option<FlagMap>,
    pub times_of_day: Option<FlagMap>,
    pub allowed_mccs: Option<FlagMap>,
    pub restricted_mccs: Option<FlagMap>,
}

/// A validated request to change a card's restrictions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestrictionUpdate {
    pub day_of_week: Patch<FlagMap>,
    pub times_of_day: Patch<FlagMap>,
    pub allowed_mccs: Patch<FlagMap>,
    pub restricted_mccs: Patch<FlagMap>,
}

/// Why a restriction update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestrictionError {
    #[error("allowedMCCs and restrictedMCCs cannot be sent together")]
    BothMccLists,
    #[error("the card already has {existing}; clear it before setting the other list")]
    OtherMccListPresent { existing: &'static str },
    #[error("invalid dayOfWeek key {0:?}: expected \"0\" (Sunday) to \"6\" (Saturday)")]
    BadDay(String),
    #[error("invalid timesOfDay key {0:?}: expected a range such as \"am9pm5\"")]
    BadTimeRange(String),
    #[error("invalid MCC {0:?}: expected 4 digits")]
    BadMcc(String),
}

impl RestrictionUpdate {
    /// Checks every key, so that a stored restriction is always one `check` understands.
    pub fn validate(&self) -> Result<(), RestrictionError> {
        if self.allowed_mccs.is_set() && self.restricted_mccs.is_set() {
            return Err(RestrictionError::BothMccLists);
        }
        if let Patch::Set(days) = &self.day_of_week {
            for key in days.keys() {
                if !matches!(key.as_str(), "0" | "1" | "2" | "3" | "4" | "5" | "6") {
                    return Err(RestrictionError::BadDay(key.clone()));
                }
            }
        }
        if let Patch::Set(ranges) = &self.times_of_day {
            for key in ranges.keys() {
                TimeRange::parse(key).ok_or_else(|| RestrictionError::BadTimeRange(key.clone()))?;
            }
        }
        for list in [&self.allowed_mccs, &self.restricted_mccs] {
            if let Patch::Set(mccs) = list {
                if let Some(bad) = mccs.keys().find(|k| !is_mcc(k)) {
                    return Err(RestrictionError::BadMcc(bad.clone()));
                }
            }
        }
        Ok(())
    }

    /// The restrictions after this update: sent kinds replace, `null` clears, absent kinds stay. Setting
    /// one MCC list while the card has the other is refused; `restrictedMCCs` values are forced to false.
    pub fn apply_to(
        self,
        current: &CardRestrictions,
    ) -> Result<CardRestrictions, RestrictionError> {
        self.validate()?;
        let has = |list: &Option<FlagMap>| list.as_ref().is_some_and(|m| !m.is_empty());
        if self.allowed_mccs.is_set()
            && has(&current.restricted_mccs)
            && !matches!(self.restricted_mccs, Patch::Clear)
        {
            return Err(RestrictionError::OtherMccListPresent {
                existing: "restrictedMCCs",
            });
        }
        if self.restricted_mccs.is_set()
            && has(&current.allowed_mccs)
            && !matches!(self.allowed_mccs, Patch::Clear)
        {
            return Err(RestrictionError::OtherMccListPresent {
                existing: "allowedMCCs",
            });
        }
        let mut next = current.clone();
        self.day_of_week.apply(&mut next.day_of_week);
        self.times_of_day.apply(&mut next.times_of_day);
        if self.allowed_mccs.is_set() {
            next.restricted_mccs = None;
        }
        if self.restricted_mccs.is_set() {
            next.allowed_mccs = None;
        }
        self.allowed_mccs.apply(&mut next.allowed_mccs);
        match self.restricted_mccs {
            Patch::Set(mccs) => {
                next.restricted_mccs = Some(mccs.into_keys().map(|k| (k, false)).collect())
            }
            other => other.apply(&mut next.restricted_mccs),
        }
        Ok(next)
    }
}

fn is_mcc(key: &str) -> bool {
    key.len() == 4 && key.bytes().all(|b| b.is_ascii_digit())
}

/// A time-of-day range from a key such as `am9pm5` (09:00 up to 17:00). `am12` is midnight and `pm12`
/// noon; a range whose end is not after its start wraps past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    start_minute: u16,
    end_minute: u16,
}

impl TimeRange {
    pub fn parse(key: &str) -> Option<TimeRange> {
        let (start, rest) = parse_clock_hour(key)?;
        let (end, rest) = parse_clock_hour(rest)?;
        rest.is_empty().then_some(TimeRange {
            start_minute: start * 60,
            end_minute: end * 60,
        })
    }

    pub fn contains(&self, minute_of_day: u16) -> bool {
        if self.start_minute < self.end_minute {
            (self.start_minute..self.end_minute).contains(&minute_of_day)
        } else {
            minute_of_day >= self.start_minute || minute_of_day < self.end_minute
        }
    }
}

/// Parses `am9` / `pm12` at the start of `s`, returning the 24-hour hour and the rest.
fn parse_clock_hour(s: &str) -> Option<(u16, &str)> {
    let pm = match s.get(..2)? {
        "am" => false,
        "pm" => true,
        _ => return None,
    };
    let digits_len = s[2..].bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 || digits_len > 2 {
        return None;
    }
    let hour: u16 = s[2..2 + digits_len].parse().ok()?;
    if !(1..=12).contains(&hour) {
        return None;
    }
    let hour24 = (hour % 12) + if pm { 12 } else { 0 };
    Some((hour24, &s[2 + digits_len..]))
}

/// Why a card authorization was declined. The names are the stable `declineReason` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    CardClosed,
    CardNotActivated,
    CardOff,
    CardExpired,
    DayOfWeekRestricted,
    TimeOfDayRestricted,
    MccNotAllowed,
    MccRestricted,
    CurrencyMismatch,
    InsufficientFunds,
}

impl DeclineReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeclineReason::CardClosed => "card_closed",
            DeclineReason::CardNotActivated => "card_not_activated",
            DeclineReason::CardOff => "card_off",
            DeclineReason::CardExpired => "card_expired",
            DeclineReason::DayOfWeekRestricted => "day_of_week_restricted",
            DeclineReason::TimeOfDayRestricted => "time_of_day_restricted",
            DeclineReason::MccNotAllowed => "mcc_not_allowed",
            DeclineReason::MccRestricted => "mcc_restricted",
            DeclineReason::CurrencyMismatch => "currency_mismatch",
            DeclineReason::InsufficientFunds => "insufficient_funds",
        }
    }
}

impl CardRestrictions {
    /// Whether a purchase at merchant local time `at` with merchant category `mcc` is allowed.
    /// A time inside a range marked false is refused; when any range is marked true, a time must fall
    /// inside one of those.
    pub fn check(&self, at: PrimitiveDateTime, mcc: &str) -> Result<(), DeclineReason> {
        if let Some(days) = &self.day_of_week {
            let day = at.weekday().number_days_from_sunday().to_string();
            if days.get(&day) == Some(&false) {
                return Err(DeclineReason::DayOfWeekRestricted);
            }
        }
        if let Some(ranges) = &self.times_of_day {
            let minute = u16::from(at.hour()) * 60 + u16::from(at.minute());
            let parsed = ranges
                .iter()
                .filter_map(|(k, v)| TimeRange::parse(k).map(|r| (r, *v)));
            let (mut any_allowed_range, mut inside_allowed) = (false, false);
            for (range, allowed) in parsed {
                if !allowed && range.contains(minute) {
                    return Err(DeclineReason::TimeOfDayRestricted);
                }
                any_allowed_range |= allowed;
                inside_allowed |= allowed && range.contains(minute);
            }
            if any_allowed_range && !inside_allowed {
                return Err(DeclineReason::TimeOfDayRestricted);
            }
        }
        if let Some(allowed) = &self.allowed_mccs {
            if allowed.get(mcc) != Some(&true) {
                return Err(DeclineReason::MccNotAllowed);
            }
        }
        if let Some(restricted) = &self.restricted_mccs {
            if restricted.contains_key(mcc) {
                return Err(DeclineReason::MccRestricted);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn flags(pairs: &[(&str, bool)]) -> FlagMap {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn time_ranges() {
        let r = TimeRange::parse("am9pm5").unwrap();
        assert!(r.contains(9 * 60) && r.contains(16 * 60 + 59) && !r.contains(17 * 60));
        let night = TimeRange::parse("pm10am6").unwrap();
        assert!(night.contains(23 * 60) && night.contains(60) && !night.contains(12 * 60));
        assert_eq!(
            TimeRange::parse("am12pm12").unwrap(),
            TimeRange {
                start_minute: 0,
                end_minute: 720
            }
        );
        for bad in ["am0pm5", "am13pm1", "xx9pm5", "am9", "am9pm5x"] {
            assert!(TimeRange::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn mcc_list_rules() {
        let both = RestrictionUpdate {
            allowed_mccs: Patch::Set(flags(&[("5411", true)])),
            restricted_mccs: Patch::Set(flags(&[("5812", true)])),
            ..Default::default()
        };
        assert_eq!(
            both.apply_to(&CardRestrictions::default()),
            Err(RestrictionError::BothMccLists)
        );

        let restricted = RestrictionUpdate {
            restricted_mccs: Patch::Set(flags(&[("5812", true)])),
            ..Default::default()
        };
        let current = restricted.apply_to(&CardRestrictions::default()).unwrap();
        assert_eq!(current.restricted_mccs, Some(flags(&[("5812", false)])));
        assert_eq!(current.allowed_mccs, None);

        let allowed = RestrictionUpdate {
            allowed_mccs: Patch::Set(flags(&[("5411", true)])),
            ..Default::default()
        };
        assert!(matches!(
            allowed.clone().apply_to(&current),
            Err(RestrictionError::OtherMccListPresent { .. })
        ));
        let switch = RestrictionUpdate {
            restricted_mccs: Patch::Clear,
            ..allowed
        };
        let switched = switch.apply_to(&current).unwrap();
        assert_eq!(switched.restricted_mccs, None);
        assert_eq!(switched.allowed_mccs, Some(flags(&[("5411", true)])));
    }

    #[test]
    fn check_applies_every_kind() {
        let wednesday_noon = datetime!(2024-01-03 12:00);
        let r = CardRestrictions {
            day_of_week: Some(flags(&[("3", false)])),
            ..Default::default()
        };
        assert_eq!(
            r.check(wednesday_noon, "5411"),
            Err(DeclineReason::DayOfWeekRestricted)
        );
        let r = CardRestrictions {
            times_of_day: Some(flags(&[("am9pm5", true)])),
            ..Default::default()
        };
        assert_eq!(r.check(wednesday_noon, "5411"), Ok(()));
        assert_eq!(
            r.check(datetime!(2024-01-03 20:00), "5411"),
            Err(DeclineReason::TimeOfDayRestricted)
        );
        let r = CardRestrictions {
            allowed_mccs: Some(flags(&[("5411", true)])),
            ..Default::default()
        };
        assert_eq!(r.check(wednesday_noon, "5411"), Ok(()));
        assert_eq!(
            r.check(wednesday_noon, "5812"),
            Err(DeclineReason::MccNotAllowed)
        );
        let r = CardRestrictions {
            restricted_mccs: Some(flags(&[("5812", false)])),
            ..Default::default()
        };
        assert_eq!(
            r.check(wednesday_noon, "5812"),
            Err(DeclineReason::MccRestricted)
        );
        assert_eq!(r.check(wednesday_noon, "5411"), Ok(()));
    }

    #[test]
    fn validation_rejects_bad_keys() {
        let bad_day = RestrictionUpdate {
            day_of_week: Patch::Set(flags(&[("7", true)])),
            ..Default::default()
        };
        assert!(matches!(
            bad_day.validate(),
            Err(RestrictionError::BadDay(_))
        ));
        let bad_mcc = RestrictionUpdate {
            allowed_mccs: Patch::Set(flags(&[("54", true)])),
            ..Default::default()
        };
        assert!(matches!(
            bad_mcc.validate(),
            Err(RestrictionError::BadMcc(_))
        ));
    }
}
