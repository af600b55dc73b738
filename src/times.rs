//! Times: the one place a provider's time text becomes a [`Timestamp`], and the ways the
//! table, the detail pane and `keyward list` show one.
//!
//! Reading is strict: each provider reads its documented format through one [`Format`]
//! here, and a value the format refuses is an error naming the field and the value (the
//! provider adds the key's id). An absent or blank field is `None`, never a guess: an
//! empty time that silently stood for "unparsable" would make an old key look new to
//! every age rule.

pub use crate::inventory::Timestamp;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Utc};

/// One documented way a provider writes a time: how to read it, and an example the error
/// quotes so the operator sees what was expected.
#[derive(Clone, Copy)]
pub struct Format {
    parse: fn(&str) -> Option<Timestamp>,
    /// What the value should have looked like, e.g. `a time like "2020-02-26T06:09:44Z"`.
    expected: &'static str,
}

impl Format {
    /// The time in `text` of the provider's `field`: `None` when absent or blank, else the
    /// parsed time, or an error like `CreatedTime "yesterday" is not an RFC 3339 time like
    /// "2020-02-26T06:09:44Z"`.
    pub fn read(&self, field: &str, text: Option<&str>) -> Result<Option<Timestamp>, String> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        (self.parse)(text)
            .map(Some)
            .ok_or_else(|| format!("{field} {text:?} is not {}", self.expected))
    }
}

/// RFC 3339 (the ISO 8601 profile with a zone): API Gateway `CreatedTime`/`ModifiedTime`
/// ("ISO8601 UTC"), CVM `CreatedTime` (`YYYY-MM-DDThh:mm:ssZ`). A zone other than `Z`
/// keeps its instant.
pub const RFC3339: Format = Format {
    parse: parse_rfc3339,
    expected: "an RFC 3339 time like \"2020-02-26T06:09:44Z\"",
};

/// `YYYY-MM-DD HH:MM:SS` without a zone, read as Beijing time (UTC+8, see
/// [`TENCENT_ZONELESS_OFFSET_SECS`]); a time written with a zone keeps its instant. CAM
/// `CreateTime`.
pub const TENCENT_ZONELESS: Format = Format {
    parse: parse_tencent_zoneless,
    expected: "a time like \"2019-12-25 14:53:03\"",
};

/// A calendar date `YYYY-MM-DD`, as midnight UTC of that day. CAM `LastUsedDate`.
pub const DATE: Format = Format {
    parse: parse_date,
    expected: "a date like \"2024-05-01\"",
};

/// Beijing time, UTC+8, the zone of Tencent Cloud API times written without one.
///
/// Why: ListAccessKeys documents `CreateTime` only by example ("2019-12-25 14:53:03", no
/// zone). Tencent's API 3.0 data-type page (cloud.tencent.com/document/api/664/78558)
/// gives the zoneless `Timestamp` form ("2022-01-01 00:00:00") beside the zoned ISO 8601
/// one, whose example carries +08:00; the console shows these times as Beijing time. So
/// keyward reads a zoneless CreateTime as UTC+8 and shows it as UTC. An assumption: if
/// Tencent ever documents otherwise, this one constant changes.
pub const TENCENT_ZONELESS_OFFSET_SECS: i32 = 8 * 3600;

/// An RFC 3339 time (`2025-03-01T08:00:00Z`, `2025-03-01T16:00:00+08:00`), as UTC.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// `YYYY-MM-DD HH:MM:SS` at a fixed offset from UTC (seconds east).
pub fn parse_zoneless(text: &str, offset_secs: i32) -> Option<Timestamp> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    let zone = FixedOffset::east_opt(offset_secs)?;
    naive.and_local_timezone(zone).single().map(|t| t.with_timezone(&Utc))
}

/// A Tencent time: zoneless as Beijing time, or RFC 3339 (see [`TENCENT_ZONELESS`]).
fn parse_tencent_zoneless(text: &str) -> Option<Timestamp> {
    parse_rfc3339(text).or_else(|| parse_zoneless(text, TENCENT_ZONELESS_OFFSET_SECS))
}

/// `YYYY-MM-DD` as midnight UTC of that day.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Seconds or milliseconds since the Unix epoch, told apart by size: seconds would put a
/// millisecond value tens of thousands of years ahead, so from 10^11 on it is milliseconds
/// (10^11 seconds is the year 5138; 10^11 ms is 1973).
pub fn from_epoch(n: i64) -> Option<Timestamp> {
    if n.unsigned_abs() >= 100_000_000_000 {
        DateTime::from_timestamp_millis(n)
    } else {
        DateTime::from_timestamp(n, 0)
    }
}

/// RFC 3339 in UTC with `Z`, fractional seconds only when the provider gave them:
/// `2025-03-01T08:00:00Z`. What the detail pane, CSV and the filter's free text show.
pub fn rfc3339(ts: Timestamp) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The calendar date in UTC, `2024-05-01`: how a last use is shown in full (CAM records
/// it by the day).
pub fn date(ts: Timestamp) -> String {
    ts.format("%Y-%m-%d").to_string()
}

/// How long ago `ts` was, compact, in its largest whole unit: `412d`, `3h`, `12m`, `40s`;
/// `0s` for a time in the future (clock skew, not an age).
pub fn age(ts: Timestamp, now: Timestamp) -> String {
    let d = now.signed_duration_since(ts).max(TimeDelta::zero());
    if d.num_days() > 0 {
        format!("{}d", d.num_days())
    } else if d.num_hours() > 0 {
        format!("{}h", d.num_hours())
    } else if d.num_minutes() > 0 {
        format!("{}m", d.num_minutes())
    } else {
        format!("{}s", d.num_seconds())
    }
}

/// Days of [`ago`] after which the date itself is clearer than a count.
pub const AGO_DAYS_MAX: i64 = 365;

/// When `ts` was, as a relative date by UTC calendar days: `today`, `yesterday`, `12d ago`
/// up to [`AGO_DAYS_MAX`] days, then the date (`2024-05-01`). A date after today's (a
/// clock ahead of ours) is shown as the date too. By the day, not the hour, because last
/// use is recorded by the day (CAM's a day late).
pub fn ago(ts: Timestamp, now: Timestamp) -> String {
    let days = (now.date_naive() - ts.date_naive()).num_days();
    match days {
        0 => "today".to_string(),
        1 => "yesterday".to_string(),
        2..=AGO_DAYS_MAX => format!("{days}d ago"),
        _ => date(ts),
    }
}

/// The last-used cell of the table and `keyward list`: [`ago`] of the last use; `never`
/// without one where the kind reports every use (`reported`, see
/// `Capabilities::reports_last_use`), blank where it is just unknown.
pub fn last_used_cell(last_used: Option<Timestamp>, reported: bool, now: Timestamp) -> String {
    match last_used {
        Some(t) => ago(t, now),
        None if reported => "never".to_string(),
        None => String::new(),
    }
}

/// `3h ago`, or `in 12d` for a time ahead (an expiry): the detail pane's relative form of
/// a full time.
pub fn relative(ts: Timestamp, now: Timestamp) -> String {
    if ts > now {
        format!("in {}", age(now, ts))
    } else {
        format!("{} ago", age(ts, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn at(text: &str) -> Timestamp {
        parse_rfc3339(text).expect("a test time")
    }

    #[test]
    fn rfc3339_reads_utc_and_zoned_times_as_their_instant() {
        assert_eq!(
            RFC3339.read("CreatedTime", Some("2020-02-26T06:09:44Z")),
            Ok(Some(at("2020-02-26T06:09:44Z")))
        );
        assert_eq!(
            RFC3339.read("CreatedTime", Some("2020-02-26T14:09:44+08:00")),
            Ok(Some(at("2020-02-26T06:09:44Z")))
        );
        assert_eq!(rfc3339(at("2020-02-26T06:09:44.250Z")), "2020-02-26T06:09:44.250Z");
    }

    #[test]
    fn absent_or_blank_is_none_and_anything_else_is_an_error_naming_field_and_value() {
        for format in [RFC3339, TENCENT_ZONELESS, DATE] {
            assert_eq!(format.read("F", None), Ok(None));
            assert_eq!(format.read("F", Some("")), Ok(None));
            assert_eq!(format.read("F", Some("  ")), Ok(None));
            let err = format.read("ModifiedTime", Some("yesterday")).unwrap_err();
            assert!(err.starts_with("ModifiedTime \"yesterday\" is not "), "{err}");
        }
        // RFC 3339 wants a zone and a time: a zoneless time or a bare date is refused.
        for bad in [
            "2020-02-26 06:09:44",
            "2020-02-26",
            "2020-02-30T00:00:00Z",
            "1582697384",
        ] {
            assert!(RFC3339.read("CreatedTime", Some(bad)).is_err(), "{bad}");
        }
    }

    /// Tencent's own example, "2019-12-25 14:53:03" Beijing time, is 06:53:03 UTC.
    #[test]
    fn a_zoneless_tencent_time_is_beijing_time() {
        let read = |t| TENCENT_ZONELESS.read("CreateTime", Some(t));
        assert_eq!(read("2019-12-25 14:53:03"), Ok(Some(at("2019-12-25T06:53:03Z"))));
        // Across midnight and a year: 05:00 on 1 January in Beijing is 31 December in UTC.
        assert_eq!(read("2024-01-01 05:00:00"), Ok(Some(at("2023-12-31T21:00:00Z"))));
        assert_eq!(read("2019-12-25T14:53:03+08:00"), Ok(Some(at("2019-12-25T06:53:03Z"))));
        for bad in ["2019-12-25", "2019-13-25 14:53:03", "1577256783"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_date_is_midnight_utc_of_that_day() {
        assert_eq!(
            DATE.read("LastUsedDate", Some("2024-05-01")),
            Ok(Some(at("2024-05-01T00:00:00Z")))
        );
        for bad in ["2024-05-01 10:00:00", "2024-02-30", "1714521600000", "today"] {
            assert!(DATE.read("LastUsedDate", Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn epoch_numbers_are_seconds_or_milliseconds_by_size() {
        assert_eq!(from_epoch(1_740_816_000), Some(at("2025-03-01T08:00:00Z")));
        assert_eq!(from_epoch(1_740_816_000_000), Some(at("2025-03-01T08:00:00Z")));
        assert_eq!(from_epoch(99_999_999_999).map(|t| t.year()), Some(5138));
        assert_eq!(from_epoch(100_000_000_000), Some(at("1973-03-03T09:46:40Z")));
        assert_eq!(from_epoch(i64::MAX), None, "beyond chrono's range");
    }

    #[test]
    fn age_is_the_largest_whole_unit_and_zero_for_the_future() {
        let now = at("2025-03-01T08:00:00Z");
        let before = |secs: i64| now - TimeDelta::seconds(secs);
        assert_eq!(age(now, now), "0s");
        assert_eq!(age(before(40), now), "40s");
        assert_eq!(age(before(59), now), "59s");
        assert_eq!(age(before(60), now), "1m");
        assert_eq!(age(before(3599), now), "59m");
        assert_eq!(age(before(3600), now), "1h");
        assert_eq!(age(before(86_399), now), "23h");
        assert_eq!(age(before(86_400), now), "1d");
        assert_eq!(age(before(412 * 86_400 + 3600), now), "412d");
        assert_eq!(age(now + TimeDelta::seconds(5), now), "0s");
    }

    #[test]
    fn ago_counts_utc_calendar_days_then_shows_the_date() {
        let now = at("2025-03-01T08:00:00Z");
        assert_eq!(ago(at("2025-03-01T00:00:00Z"), now), "today");
        assert_eq!(ago(at("2025-03-01T23:59:59Z"), now), "today", "later today: skew");
        assert_eq!(
            ago(at("2025-02-28T23:59:59Z"), now),
            "yesterday",
            "by the date, not 24 h"
        );
        assert_eq!(ago(at("2025-02-27T00:00:00Z"), now), "2d ago");
        assert_eq!(ago(at("2024-03-01T00:00:00Z"), now), "365d ago");
        assert_eq!(ago(at("2024-02-29T00:00:00Z"), now), "2024-02-29");
        assert_eq!(ago(at("2025-03-02T00:00:00Z"), now), "2025-03-02", "a future date");
    }

    #[test]
    fn an_unknown_last_use_is_never_only_where_every_use_is_reported() {
        let now = at("2025-03-01T08:00:00Z");
        assert_eq!(last_used_cell(Some(at("2025-02-19T00:00:00Z")), true, now), "10d ago");
        assert_eq!(last_used_cell(Some(at("2025-02-19T00:00:00Z")), false, now), "10d ago");
        assert_eq!(last_used_cell(None, true, now), "never");
        assert_eq!(last_used_cell(None, false, now), "");
    }

    #[test]
    fn relative_says_ago_or_in() {
        let now = at("2025-03-01T08:00:00Z");
        assert_eq!(relative(at("2025-03-01T05:00:00Z"), now), "3h ago");
        assert_eq!(relative(at("2025-03-13T08:00:00Z"), now), "in 12d");
        assert_eq!(relative(now, now), "0s ago");
    }

    /// The form an item's times take in JSON (serde) is the same as [`rfc3339`].
    #[test]
    fn serde_writes_the_same_text_as_rfc3339() {
        for t in ["2025-03-01T08:00:00Z", "2025-03-01T08:00:00.123Z"] {
            assert_eq!(serde_json::to_value(at(t)).unwrap(), serde_json::json!(rfc3339(at(t))));
        }
    }
}
