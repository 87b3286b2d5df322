//! The contract's `dts*` time format: ISO-8601 in UTC with milliseconds and a `Z`
//! (`2023-12-11T13:14:57.328Z`), plus conversions to the store's integer milliseconds.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// Formats a time the way every `dts*` field is written.
pub fn format_dts(t: OffsetDateTime) -> String {
    let utc = t.to_offset(UtcOffset::UTC);
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    utc.format(&fmt)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Parses an RFC 3339 / ISO-8601 date-time with an offset.
pub fn parse_dts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Parses a `YYYY-MM-DD` path date.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// Milliseconds since the Unix epoch, as the store keeps times.
pub fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Serde helpers writing `OffsetDateTime` in the `dts` format.
pub mod dts {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_dts(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_dts(&s)
            .ok_or_else(|| serde::de::Error::custom("expected an ISO-8601 date-time"))
    }

    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::super::format_dts(*t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                super::super::parse_dts(&s)
                    .ok_or_else(|| serde::de::Error::custom("expected an ISO-8601 date-time"))
            })
            .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(
            format_dts(datetime!(2023-12-11 13:14:57.328 UTC)),
            "2023-12-11T13:14:57.328Z"
        );
        assert_eq!(
            format_dts(datetime!(2023-12-11 09:00:00 -4)),
            "2023-12-11T13:00:00.000Z"
        );
    }

    #[test]
    fn round_trips_through_millis() {
        let t = datetime!(2024-02-29 23:59:59.999 UTC);
        assert_eq!(from_millis(to_millis(t)), t);
        assert_eq!(
            parse_dts("2023-01-03T19:54:15.963+00:00"),
            Some(datetime!(2023-01-03 19:54:15.963 UTC))
        );
        assert!(parse_date("2024-13-01").is_none());
    }
}
