//! OpenAPI schemas (the `schema` feature) for what the types carry but do not describe themselves: the
//! `time` values. They are written the way the `time` crate's serde support writes them without its
//! human-readable feature, as fixed-length arrays of integers, and the schemas say exactly that.

use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn integer(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some(description))
        .into()
}

fn tuple(description: &str, parts: &[&str], example: serde_json::Value) -> RefOr<Schema> {
    ArrayBuilder::new()
        .description(Some(description))
        .prefix_items(parts.iter().map(|part| integer(part)))
        .items(ArrayItems::False)
        .min_items(Some(parts.len()))
        .max_items(Some(parts.len()))
        .examples([example])
        .into()
}

const DATE_PARTS: [&str; 2] = ["year", "day of the year, 1 to 366"];
const TIME_PARTS: [&str; 4] = ["hour", "minute", "second", "nanosecond"];
const OFFSET_PARTS: [&str; 3] = [
    "UTC offset: hours",
    "UTC offset: minutes",
    "UTC offset: seconds",
];

/// An instant with its UTC offset (`time::OffsetDateTime`).
pub struct DateTime;

impl PartialSchema for DateTime {
    fn schema() -> RefOr<Schema> {
        let parts: Vec<&str> = DATE_PARTS
            .iter()
            .chain(&TIME_PARTS)
            .chain(&OFFSET_PARTS)
            .copied()
            .collect();
        tuple(
            "An instant: [year, day of the year, hour, minute, second, nanosecond, offset hours, \
             offset minutes, offset seconds]",
            &parts,
            serde_json::json!([2025, 15, 12, 0, 0, 0, 0, 0, 0]),
        )
    }
}

impl ToSchema for DateTime {}

/// A calendar day (`time::Date`).
pub struct Date;

impl PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        tuple(
            "A calendar day: [year, day of the year]",
            &DATE_PARTS,
            serde_json::json!([2025, 15]),
        )
    }
}

impl ToSchema for Date {}

/// A local date and time without an offset (`time::PrimitiveDateTime`).
pub struct LocalDateTime;

impl PartialSchema for LocalDateTime {
    fn schema() -> RefOr<Schema> {
        let parts: Vec<&str> = DATE_PARTS.iter().chain(&TIME_PARTS).copied().collect();
        tuple(
            "A local date and time: [year, day of the year, hour, minute, second, nanosecond]",
            &parts,
            serde_json::json!([2025, 15, 12, 0, 0, 0]),
        )
    }
}

impl ToSchema for LocalDateTime {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    /// The schemas describe what serde_json really writes.
    #[test]
    fn time_values_are_written_as_the_schemas_say() {
        let instant = datetime!(2025-01-15 12:00:01.5 +01:30);
        assert_eq!(
            serde_json::to_value(instant).unwrap(),
            serde_json::json!([2025, 15, 12, 0, 1, 500_000_000, 1, 30, 0])
        );
        assert_eq!(
            serde_json::to_value(instant.date()).unwrap(),
            serde_json::json!([2025, 15])
        );
        let local = datetime!(2025-01-15 12:00);
        assert_eq!(
            serde_json::to_value(local).unwrap(),
            serde_json::json!([2025, 15, 12, 0, 0, 0])
        );
    }
}
