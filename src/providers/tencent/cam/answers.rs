//! The documented answers of the CAM actions keyward sends, and the pure rules that turn
//! them into item fields: the status words, CreateTime's time zone, LastUsedDate.
//!
//! Secrets: only `CreatedKey` holds one (CreateAccessKey's `SecretAccessKey`), straight
//! into a `Secret`; no other answer type has a field for it, so none reaches an item.

use crate::inventory::Status;
use crate::secret::Secret;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::Deserialize;

/// One entry of ListUsers' `Data` (`SubAccountInfo`): only what keyward shows or sends.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SubAccount {
    /// The user's uin: the `TargetUin` of every call about their keys.
    pub uin: u64,
    #[serde(default)]
    pub name: Option<String>,
}

/// One entry of ListAccessKeys' `AccessKeys` (`AccessKey`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AccessKey {
    pub access_key_id: String,
    pub status: String,
    #[serde(default)]
    pub create_time: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// One entry of GetSecurityLastUsed's `SecretIdLastUsedRows`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LastUsedRow {
    pub secret_id: String,
    #[serde(default)]
    pub last_used_date: Option<String>,
}

/// CreateAccessKey's `AccessKey` (`AccessKeyDetail`). No `Debug`: it holds the secret,
/// and `Secret` masks itself anyway.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CreatedKey {
    pub access_key_id: String,
    #[serde(deserialize_with = "secret")]
    pub secret_access_key: Secret,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

/// `Status` of an access key: "Active" or "Inactive", the only two documented words.
/// Anything else is a shape keyward does not know, said to the operator rather than
/// guessed (a guessed "disabled" would plan a delete without the disable).
pub fn status(word: &str) -> Result<Status, String> {
    match word {
        "Active" => Ok(Status::Enabled),
        "Inactive" => Ok(Status::Disabled),
        other => Err(format!(
            "Status {other:?} is not one of the documented Active, Inactive"
        )),
    }
}

/// Beijing time, UTC+8, the zone of Tencent Cloud API times written without one.
///
/// Why: ListAccessKeys documents `CreateTime` only by example ("2019-12-25 14:53:03", no
/// zone). Tencent's API 3.0 data-type page (cloud.tencent.com/document/api/664/78558)
/// gives the zoneless `Timestamp` form ("2022-01-01 00:00:00") beside the zoned ISO 8601
/// one, whose example carries +08:00; the console shows these times as Beijing time. So
/// keyward reads a zoneless CreateTime as UTC+8 and shows it as UTC. An assumption: if
/// Tencent ever documents otherwise, this one constant changes.
pub const TENCENT_ZONELESS_OFFSET_SECS: i32 = 8 * 3600;

/// CreateTime as ISO-8601 UTC (`2019-12-25T06:53:03Z`): a zoneless `YYYY-MM-DD HH:MM:SS`
/// is Beijing time (see [`TENCENT_ZONELESS_OFFSET_SECS`]); a time with a zone keeps its
/// instant. Empty stays empty (unknown); any other text is an error naming it.
pub fn beijing_to_utc(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    if let Ok(zoned) = DateTime::parse_from_rfc3339(text) {
        return Ok(zoned.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map_err(|_| format!("CreateTime {text:?} is not a time like \"2019-12-25 14:53:03\""))?;
    let beijing = FixedOffset::east_opt(TENCENT_ZONELESS_OFFSET_SECS).expect("UTC+8 is a valid offset");
    let instant = naive
        .and_local_timezone(beijing)
        .single()
        .ok_or_else(|| format!("CreateTime {text:?} is not one instant in UTC+8"))?;
    Ok(instant.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// LastUsedDate as keyward shows it: the date itself (`2024-05-01`), never "today" or a
/// time of day, because the service records it a day late ("有1天延迟"): a key used an
/// hour ago may still show yesterday's date or none. Empty stays empty (no use recorded);
/// anything but a `YYYY-MM-DD` date is an error naming it.
pub fn last_used_date(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("LastUsedDate {text:?} is not a date like \"2024-05-01\""))
}

/// The owner column of a key: `root` for the caller's own keys that no user owns, else
/// the user's name with the uin (names can be edited, the uin is what calls send).
pub fn owner_label(user: Option<(&str, u64)>) -> String {
    match user {
        None => "root".to_string(),
        Some((name, uin)) if name.trim().is_empty() => format!("uin {uin}"),
        Some((name, uin)) => format!("{} ({uin})", name.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tencent's own example, "2019-12-25 14:53:03" Beijing time, is 06:53:03 UTC.
    #[test]
    fn a_zoneless_create_time_is_beijing_time_shown_as_utc() {
        assert_eq!(beijing_to_utc("2019-12-25 14:53:03").unwrap(), "2019-12-25T06:53:03Z");
        // Across midnight and a year boundary: 05:00 on 1 January in Beijing is still the
        // last day of the year before in UTC.
        assert_eq!(beijing_to_utc("2024-01-01 05:00:00").unwrap(), "2023-12-31T21:00:00Z");
        assert_eq!(beijing_to_utc("").unwrap(), "");
    }

    #[test]
    fn a_create_time_with_a_zone_keeps_its_instant() {
        assert_eq!(
            beijing_to_utc("2019-12-25T14:53:03+08:00").unwrap(),
            "2019-12-25T06:53:03Z"
        );
        assert_eq!(beijing_to_utc("2019-12-25T06:53:03Z").unwrap(), "2019-12-25T06:53:03Z");
    }

    #[test]
    fn an_unknown_create_time_is_an_error_that_quotes_it() {
        for bad in ["yesterday", "2019-12-25", "2019-13-25 14:53:03", "1577256783"] {
            let err = beijing_to_utc(bad).unwrap_err();
            assert!(err.contains(bad) && err.contains("CreateTime"), "{err}");
        }
    }

    #[test]
    fn last_used_is_the_date_alone_and_nothing_else() {
        assert_eq!(last_used_date("2024-05-01").unwrap(), "2024-05-01");
        assert_eq!(last_used_date("").unwrap(), "");
        for bad in ["today", "2024-05-01 10:00:00", "2024-02-30", "1714521600000"] {
            let err = last_used_date(bad).unwrap_err();
            assert!(err.contains("LastUsedDate"), "{err}");
        }
    }

    #[test]
    fn only_the_documented_status_words_map() {
        assert_eq!(status("Active"), Ok(Status::Enabled));
        assert_eq!(status("Inactive"), Ok(Status::Disabled));
        assert!(status("active").unwrap_err().contains("\"active\""));
        assert!(status("").is_err());
    }

    #[test]
    fn owners_are_root_or_the_user_with_their_uin() {
        assert_eq!(owner_label(None), "root");
        assert_eq!(owner_label(Some(("alice", 100012345678))), "alice (100012345678)");
        assert_eq!(owner_label(Some((" ", 100012345678))), "uin 100012345678");
    }
}
