//! Idempotency-Key handling as a service: fingerprinting a request and deciding, with the store, whether
//! to run it, replay its stored response, or refuse. The HTTP layer wraps state-changing routes with it.

use super::{Result, Services};
use bankgate_domain::ids::UserId;
use bankgate_store::{IdempotencyBegin, IdempotencyClaim, StoredResponse};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The fingerprint of a request: method, path and body. A JSON body counts by its content, not its
/// layout: a client retrying may serialize the same object again with other spacing or key order, or
/// write a number another way (`25`, `25.00`, `2.5e1`: amounts are decimals), and that is the same
/// request. Any other body counts byte for byte.
pub fn request_fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    let parsed = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str::<&RawValue>(text).ok());
    let mut json = hasher.clone();
    json.update(b"json\0");
    match parsed.map(|value| hash_json(&mut json, value, 0)) {
        Some(Ok(())) => hasher = json,
        _ => {
            hasher.update(b"raw\0");
            hasher.update(body);
        }
    }
    super::auth::hex(&hasher.finalize())
}

/// How deep arrays and objects may nest for a body to count by content (serde_json's own limit).
const MAX_JSON_DEPTH: usize = 128;

/// Feeds `value` (valid JSON text) to the hasher with object keys in sorted order (a repeated key counts
/// once, its last value, as in a parsed object), numbers by their exact decimal value, and each part
/// length-prefixed so that no two different values feed the same bytes. Each level parses its own text
/// once more, so the work is bounded by the depth limit times the body's size.
fn hash_json(hasher: &mut Sha256, value: &RawValue, depth: usize) -> serde_json::Result<()> {
    let text = |hasher: &mut Sha256, tag: u8, s: &str| {
        hasher.update([tag]);
        hasher.update((s.len() as u64).to_be_bytes());
        hasher.update(s.as_bytes());
    };
    let raw = value.get().trim_matches([' ', '\t', '\n', '\r']);
    let too_deep = || <serde_json::Error as serde::de::Error>::custom("nested too deep");
    match raw.as_bytes().first() {
        Some(b'n') => hasher.update(b"n"),
        Some(b't') => hasher.update(b"t"),
        Some(b'f') => hasher.update(b"f"),
        Some(b'"') => text(hasher, b's', &serde_json::from_str::<String>(raw)?),
        Some(b'[') => {
            if depth >= MAX_JSON_DEPTH {
                return Err(too_deep());
            }
            let items: Vec<&RawValue> = serde_json::from_str(raw)?;
            hasher.update(b"[");
            hasher.update((items.len() as u64).to_be_bytes());
            for item in items {
                hash_json(hasher, item, depth + 1)?;
            }
        }
        Some(b'{') => {
            if depth >= MAX_JSON_DEPTH {
                return Err(too_deep());
            }
            let entries: BTreeMap<String, &RawValue> = serde_json::from_str(raw)?;
            hasher.update(b"{");
            hasher.update((entries.len() as u64).to_be_bytes());
            for (key, item) in entries {
                text(hasher, b'k', &key);
                hash_json(hasher, item, depth + 1)?;
            }
        }
        _ => match canonical_decimal(raw) {
            Some(decimal) => text(hasher, b'#', &decimal),
            // An exponent beyond any use: counted by its spelling.
            None => text(hasher, b'~', raw),
        },
    }
    Ok(())
}

/// The furthest the decimal point may sit from the digits for a number to be written out in full.
const PLAIN_SCALE: i64 = 64;

/// One spelling per exact decimal value of a JSON number (`number`, valid JSON): digits without leading
/// or trailing zeros times a power of ten, written out in full (`25`, `0.5`, `-1200`) when that power is
/// within `PLAIN_SCALE`, else as `<digits>e<power>` (`1e400`). Zero is `0`, whatever its sign. No floating
/// point is involved, so `1` and `1.000000001` stay apart. None when the exponent of a number other
/// than zero has more than 18 digits.
fn canonical_decimal(number: &str) -> Option<String> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !(frac.is_empty() || all_digits(frac)) {
        return None;
    }
    let all = format!("{int}{frac}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Some("0".to_owned());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (sign, digits) = match e.as_bytes().first() {
                Some(b'-') => (-1, &e[1..]),
                Some(b'+') => (1, &e[1..]),
                _ => (1, e),
            };
            let digits = digits.trim_start_matches('0');
            if digits.len() > 18 {
                return None;
            }
            sign * digits.parse::<i64>().unwrap_or(0)
        }
    };
    let digits = significant.trim_end_matches('0');
    let dropped = i64::try_from(significant.len() - digits.len()).ok()?;
    let frac_len = i64::try_from(frac.len()).ok()?;
    // The value is `digits` times ten to the `scale`.
    let scale = exponent.checked_sub(frac_len)?.checked_add(dropped)?;
    let sign = if negative { "-" } else { "" };
    if !(-PLAIN_SCALE..=PLAIN_SCALE).contains(&scale) {
        return Some(format!("{sign}{digits}e{scale}"));
    }
    let len = i64::try_from(digits.len()).ok()?;
    // Where the decimal point falls, counted from the left of `digits`.
    let point = len + scale;
    Some(if scale >= 0 {
        format!("{sign}{digits}{}", "0".repeat(scale as usize))
    } else if point > 0 {
        let (whole, part) = digits.split_at(point as usize);
        format!("{sign}{whole}.{part}")
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    })
}

impl Services {
    pub async fn begin_idempotent(
        &self,
        user: &UserId,
        key: &str,
        fingerprint: &str,
    ) -> Result<IdempotencyBegin> {
        let abandoned_after = time::Duration::try_from(self.settings.idempotency_abandon)
            .unwrap_or(time::Duration::MAX);
        Ok(self
            .store
            .begin_idempotent(user, key, fingerprint, self.clock.now(), abandoned_after)
            .await?)
    }

    pub async fn complete_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<()> {
        Ok(self
            .store
            .complete_idempotent(user, key, claim, response)
            .await?)
    }

    pub async fn abandon_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: IdempotencyClaim,
    ) -> Result<()> {
        Ok(self.store.abandon_idempotent(user, key, claim).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical_decimal, request_fingerprint};

    #[test]
    fn json_bodies_count_by_content() {
        let print = |body: &str| request_fingerprint("POST", "/x", body.as_bytes());
        let base = print(r#"{"a":1,"b":[true,null,"s"],"c":{"d":"e"}}"#);
        assert_eq!(
            base,
            print("{ \"c\": {\"d\": \"e\"},\n \"b\": [true, null, \"s\"], \"a\": 1 }")
        );
        for other in [
            r#"{"a":2,"b":[true,null,"s"],"c":{"d":"e"}}"#,
            r#"{"a":1,"b":[null,true,"s"],"c":{"d":"e"}}"#,
            r#"{"a":"1","b":[true,null,"s"],"c":{"d":"e"}}"#,
            r#"{"a":1,"b":[true,null,"s"],"c":{"d":"e"},"f":null}"#,
        ] {
            assert_ne!(base, print(other), "{other}");
        }
        assert_ne!(print(r#"["ab","c"]"#), print(r#"["a","bc"]"#));
        assert_ne!(print("{bad"), print("{bad "));
        assert_ne!(
            request_fingerprint("POST", "/x", b"{}"),
            request_fingerprint("POST", "/y", b"{}")
        );
        // Escapes and repeated keys count as a parser reads them.
        assert_eq!(print(r#"["\u0041"]"#), print(r#"["A"]"#));
        assert_eq!(print(r#"{"a":1,"a":2}"#), print(r#"{"a":2}"#));
    }

    #[test]
    fn numbers_count_by_exact_decimal_value() {
        let print = |amount: &str| {
            let body = format!(r#"{{"amount":{amount},"currency":"USD"}}"#);
            request_fingerprint("POST", "/x", body.as_bytes())
        };
        let same = |a: &str, b: &str| assert_eq!(print(a), print(b), "{a} and {b}");
        let apart = |a: &str, b: &str| assert_ne!(print(a), print(b), "{a} and {b}");
        for other in [
            "25.00", "25.0", "2.5e1", "2.50E+1", "250e-1", "0.025e3", "25e0",
        ] {
            same("25", other);
        }
        same("1", "1.0");
        same("-0", "0");
        same("0", "0.000e-7");
        same("-0.0", "0e99");
        same("-12.30", "-1.23e1");
        same("1e400", "10e399");
        same("0.1", "1e-1");
        apart("1", "1.000000001");
        apart("25", "25.01");
        apart("25", "2.5");
        apart("25", "250");
        apart("25", "-25");
        apart("25", r#""25""#);
        apart("25", "[25]");
        // Values that a double would round together.
        apart("0", "1e-400");
        apart("1e400", "1e401");
        apart("12345678901234567890123", "12345678901234567890124");
        apart("0.1", "0.10000000000000000001");
        // Far past any use: counted by spelling, never equal to a value in range.
        apart("1e1000000000000000000", "1e999999999999999999");
        apart("1e1000000000000000000", "1");
    }

    #[test]
    fn a_decimal_has_one_spelling() {
        for (number, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("25", "25"),
            ("25.00", "25"),
            ("2.5e1", "25"),
            ("-0.50", "-0.5"),
            ("1200", "1200"),
            ("1.2e3", "1200"),
            ("123e-2", "1.23"),
            ("0.001", "0.001"),
            ("1E-7", "0.0000001"),
            ("18446744073709551616", "18446744073709551616"),
            ("1e64", "1{64 zeros}"),
            ("1e65", "1e65"),
            ("-15e-70", "-15e-70"),
            ("1e-64", "0.{63 zeros}1"),
            ("1e-65", "1e-65"),
            ("1e0000000000000000000000001", "10"),
        ] {
            let canonical = canonical
                .replace("{64 zeros}", &"0".repeat(64))
                .replace("{63 zeros}", &"0".repeat(63));
            assert_eq!(
                canonical_decimal(number).as_deref(),
                Some(canonical.as_str()),
                "{number}"
            );
        }
        assert_eq!(canonical_decimal("1e1000000000000000000"), None);
        assert_eq!(
            canonical_decimal("-0.0e-1000000000000000000").as_deref(),
            Some("0")
        );
    }

    #[test]
    fn deep_nesting_counts_byte_for_byte_without_overflowing() {
        let nested = |depth: usize, space: &str| {
            format!(
                "{}1{}",
                "[".repeat(depth),
                format!("{space}]").repeat(depth)
            )
        };
        let print = |body: &str| request_fingerprint("POST", "/x", body.as_bytes());
        // Within the limit, layout does not count.
        assert_eq!(print(&nested(100, "")), print(&nested(100, " ")));
        // Beyond it the body counts as bytes, however deep it goes.
        assert_ne!(print(&nested(200, "")), print(&nested(200, " ")));
        assert_ne!(print(&nested(30_000, "")), print(&nested(30_000, " ")));
    }
}
