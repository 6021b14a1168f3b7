//! The wire datetime of api.md §2.6: `YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z`, UTC only.
//!
//! The original text is kept verbatim (event data stores and echoes it
//! unchanged, api.md §9 item 10) next to a comparable instant in microseconds
//! since the Unix epoch. Calendar arithmetic is the proleptic Gregorian
//! days-from-civil conversion, written out here so the core needs no date crate.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// A validated wire datetime: the text as sent plus its instant.
///
/// Accepted: `T` or `t` between date and time, `Z` or `z` at the end, 0 to 6
/// fractional digits, second `00`–`60`, a real calendar date in years
/// 0000–9999. Rejected: offsets other than `Z`, missing seconds, more than 6
/// fractional digits, spaces.
///
/// **Leap seconds:** second 60 is counted as the first second of the next
/// minute, so `…23:59:60.5Z` has the instant of `00:00:00.5Z` of the next day.
/// Two different texts can therefore share an instant; equality compares the
/// text (so that stored data round-trips exactly), ordering compares the
/// instant first and the text second.
///
/// ```
/// use biglearn_core::events::Datetime;
/// let a: Datetime = "2017-08-01T12:00:00.000001Z".parse().unwrap();
/// let b: Datetime = "2017-08-01t12:00:00z".parse().unwrap();
/// assert_eq!(a.as_str(), "2017-08-01T12:00:00.000001Z");
/// assert_eq!(a.unix_micros() - b.unix_micros(), 1);
/// assert!(b < a);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Datetime {
    text: Box<str>,
    micros: i64,
}

/// A string that is not a wire datetime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a UTC datetime like 2017-08-01T12:00:00.000000Z ({reason}), got {value:?}")]
pub struct InvalidDatetime {
    /// The rejected text.
    pub value: String,
    /// Which rule it breaks.
    pub reason: &'static str,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`). `month` is 1–12, `day` 1–31.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01; inverse of
/// [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is in 1..=31 and month in 1..=12 by construction.
    (year, month as u32, day as u32)
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days of `month` (1–12) in `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')),
    )
}

impl Datetime {
    /// Parses and validates the wire form.
    pub fn parse(text: &str) -> Result<Self, InvalidDatetime> {
        let fail = |reason| InvalidDatetime {
            value: text.to_owned(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() < 20 || b.len() > 27 {
            return Err(fail("wrong length"));
        }
        let separators_ok = b[4] == b'-'
            && b[7] == b'-'
            && matches!(b[10], b'T' | b't')
            && b[13] == b':'
            && b[16] == b':';
        if !separators_ok {
            return Err(fail("wrong separators"));
        }
        if !matches!(b[b.len() - 1], b'Z' | b'z') {
            return Err(fail("must end in Z: UTC only"));
        }
        let field = |range: std::ops::Range<usize>| digits(&b[range]);
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
            field(0..4),
            field(5..7),
            field(8..10),
            field(11..13),
            field(14..16),
            field(17..19),
        ) else {
            return Err(fail("non-digit in a date or time field"));
        };
        let fraction = &b[19..b.len() - 1];
        let micros_of_second = match fraction {
            [] => 0,
            [b'.', rest @ ..] if !rest.is_empty() && rest.len() <= 6 => match digits(rest) {
                Some(value) => i64::from(value) * 10_i64.pow(6 - rest.len() as u32),
                None => return Err(fail("non-digit in the fraction")),
            },
            _ => return Err(fail("the fraction must be '.' and 1 to 6 digits")),
        };
        let year = i64::from(year);
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(fail("no such day in that month"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(fail("time of day out of range"));
        }
        let seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Ok(Datetime {
            text: text.into(),
            micros: seconds * MICROS_PER_SECOND + micros_of_second,
        })
    }

    /// The canonical text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, as Tutor sends it) of
    /// an instant; `None` outside years 0000–9999.
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        let seconds = micros.div_euclid(MICROS_PER_SECOND);
        let fraction = micros.rem_euclid(MICROS_PER_SECOND);
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let text = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
        );
        Some(Datetime {
            text: text.into(),
            micros,
        })
    }

    /// The text exactly as received.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Microseconds since 1970-01-01T00:00:00Z (leap second 60 counts as the
    /// next minute's second 0).
    pub fn unix_micros(&self) -> i64 {
        self.micros
    }
}

impl FromStr for Datetime {
    type Err = InvalidDatetime;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Datetime::parse(text)
    }
}

impl PartialOrd for Datetime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Datetime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.micros
            .cmp(&other.micros)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl fmt::Display for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Datetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Datetime({:?})", &*self.text)
    }
}

impl Serialize for Datetime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Datetime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Datetime::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn micros(text: &str) -> i64 {
        Datetime::parse(text).expect(text).unix_micros()
    }

    #[test]
    fn known_instants() {
        assert_eq!(micros("1970-01-01T00:00:00Z"), 0);
        assert_eq!(micros("1970-01-01T00:00:01.5Z"), 1_500_000);
        assert_eq!(micros("1969-12-31T23:59:59.999999Z"), -1);
        // 2017-08-01T12:34:56Z = 1501590896 (date -u -d @1501590896).
        assert_eq!(micros("2017-08-01T12:34:56.123456Z"), 1_501_590_896_123_456);
        assert_eq!(micros("2000-02-29t00:00:00z"), 951_782_400_000_000);
        assert_eq!(micros("0000-03-01T00:00:00Z"), -62_162_035_200_000_000);
        assert_eq!(
            micros("9999-12-31T23:59:59.999999Z"),
            253_402_300_799_999_999
        );
    }

    #[test]
    fn leap_second_is_the_next_minute() {
        assert_eq!(
            micros("2016-12-31T23:59:60.25Z"),
            micros("2017-01-01T00:00:00.25Z")
        );
        let leap = Datetime::parse("2016-12-31T23:59:60Z").expect("leap");
        let next = Datetime::parse("2017-01-01T00:00:00Z").expect("next");
        assert_ne!(leap, next);
        assert!(leap < next);
    }

    #[test]
    fn rejects_every_broken_rule() {
        for (bad, reason) in [
            ("2017-08-01T12:00:00", "wrong length"),
            ("2017-08-01T12:00:00+00:00", "must end in Z: UTC only"),
            ("2017-08-01 12:00:00Z", "wrong separators"),
            ("2017/08/01T12:00:00Z", "wrong separators"),
            ("2017-08-01T12:00Z", "wrong length"),
            ("2017-08-01T12:00:00.1234567Z", "wrong length"),
            (
                "2017-08-01T12:00:00.Z",
                "the fraction must be '.' and 1 to 6 digits",
            ),
            (
                "2017-08-01T12:00:00,5Z",
                "the fraction must be '.' and 1 to 6 digits",
            ),
            ("2017-08-01T12:00:00.5aZ", "non-digit in the fraction"),
            ("2017-13-01T12:00:00Z", "month out of range"),
            ("2017-00-01T12:00:00Z", "month out of range"),
            ("2017-02-29T12:00:00Z", "no such day in that month"),
            ("1900-02-29T12:00:00Z", "no such day in that month"),
            ("2017-04-31T12:00:00Z", "no such day in that month"),
            ("2017-08-00T12:00:00Z", "no such day in that month"),
            ("2017-08-01T24:00:00Z", "time of day out of range"),
            ("2017-08-01T12:60:00Z", "time of day out of range"),
            ("2017-08-01T12:00:61Z", "time of day out of range"),
            ("2017-08-0aT12:00:00Z", "non-digit in a date or time field"),
            ("+017-08-01T12:00:00Z", "non-digit in a date or time field"),
            ("２017-08-01T12:00:00Z", "wrong separators"),
        ] {
            let err = Datetime::parse(bad).expect_err(bad);
            assert_eq!(err.reason, reason, "{bad}");
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn serde_keeps_the_text() {
        let text = "\"2017-08-01t12:00:00.5z\"";
        let parsed: Datetime = serde_json::from_str(text).expect("valid");
        assert_eq!(serde_json::to_string(&parsed).expect("ser"), text);
        let err = serde_json::from_str::<Datetime>("\"2017-08-01\"").expect_err("bad");
        assert!(err.to_string().contains("UTC datetime"), "{err}");
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in -719_468i64..2_932_897) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m));
            prop_assert!(d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn canonical_text_round_trip(micros in -62_167_219_200_000_000i64..253_402_300_800_000_000) {
            let dt = Datetime::from_unix_micros(micros).expect("in range");
            let parsed = Datetime::parse(dt.as_str()).expect("canonical parses");
            prop_assert_eq!(parsed.unix_micros(), micros);
            prop_assert_eq!(&parsed, &dt);
        }

        #[test]
        fn text_order_matches_instant_order(a in 0i64..253_402_300_800_000_000, b in 0i64..253_402_300_800_000_000) {
            let (x, y) = (
                Datetime::from_unix_micros(a).expect("a"),
                Datetime::from_unix_micros(b).expect("b"),
            );
            prop_assert_eq!(x.as_str().cmp(y.as_str()), a.cmp(&b));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
        }

        #[test]
        fn short_fractions_scale(
            micros in 0i64..253_402_300_800_000_000,
            keep in 0usize..=6,
            lower in any::<bool>(),
        ) {
            let canonical = Datetime::from_unix_micros(micros).expect("in range");
            let text = canonical.as_str();
            // Cut the fraction to `keep` digits (and the dot when 0).
            let cut = if keep == 0 { 19 } else { 20 + keep };
            let mut short = format!("{}Z", &text[..cut]);
            if lower {
                short = short.replace('T', "t").replace('Z', "z");
            }
            let parsed = Datetime::parse(&short).expect("short form parses");
            let scale = 10i64.pow(6 - keep as u32);
            prop_assert_eq!(parsed.unix_micros(), micros - micros % scale);
            prop_assert_eq!(parsed.as_str(), short.as_str());
        }
    }
}
