//! The documented answers of the CAM actions keyward sends, and the pure rules that turn
//! them into item fields: the status words, CreateTime's time zone, LastUsedDate (the
//! time formats themselves are read in `crate::times`).
//!
//! Secrets: only `CreatedKey` holds one (CreateAccessKey's `SecretAccessKey`), straight
//! into a `Secret`; no other answer type has a field for it, so none reaches an item.

use crate::inventory::{Status, Timestamp};
use crate::secret::Secret;
use crate::times;
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

/// CreateTime as a time: a zoneless `YYYY-MM-DD HH:MM:SS` is Beijing time (see
/// [`times::TENCENT_ZONELESS_OFFSET_SECS`]), a time with a zone keeps its instant. Absent
/// or empty is `None` (unknown); any other text is an error naming it.
pub fn beijing_to_utc(text: Option<&str>) -> Result<Option<Timestamp>, String> {
    times::TENCENT_ZONELESS.read("CreateTime", text)
}

/// LastUsedDate as a time: midnight UTC of the `YYYY-MM-DD` day (shown as the date alone,
/// never a time of day, because the service records it a day late, "有1天延迟": a key used
/// an hour ago may still show yesterday's date or none). Absent or empty is `None` (no use
/// recorded); anything but a date is an error naming it.
pub fn last_used_date(text: Option<&str>) -> Result<Option<Timestamp>, String> {
    times::DATE.read("LastUsedDate", text)
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

    fn at(text: &str) -> Option<Timestamp> {
        times::parse_rfc3339(text)
    }

    /// Tencent's own example, "2019-12-25 14:53:03" Beijing time, is 06:53:03 UTC.
    #[test]
    fn a_zoneless_create_time_is_beijing_time() {
        assert_eq!(
            beijing_to_utc(Some("2019-12-25 14:53:03")),
            Ok(at("2019-12-25T06:53:03Z"))
        );
        assert_eq!(
            beijing_to_utc(Some("2024-01-01 05:00:00")),
            Ok(at("2023-12-31T21:00:00Z"))
        );
        assert_eq!(
            beijing_to_utc(Some("2019-12-25T14:53:03+08:00")),
            Ok(at("2019-12-25T06:53:03Z"))
        );
        assert_eq!(beijing_to_utc(Some("")), Ok(None));
        assert_eq!(beijing_to_utc(None), Ok(None));
    }

    #[test]
    fn an_unknown_create_time_is_an_error_that_quotes_it() {
        for bad in ["yesterday", "2019-12-25", "2019-13-25 14:53:03", "1577256783"] {
            let err = beijing_to_utc(Some(bad)).unwrap_err();
            assert!(err.contains(bad) && err.starts_with("CreateTime"), "{err}");
        }
    }

    #[test]
    fn last_used_is_midnight_utc_of_the_date_and_nothing_else() {
        assert_eq!(last_used_date(Some("2024-05-01")), Ok(at("2024-05-01T00:00:00Z")));
        assert_eq!(last_used_date(Some("")), Ok(None));
        assert_eq!(last_used_date(None), Ok(None));
        for bad in ["today", "2024-05-01 10:00:00", "2024-02-30", "1714521600000"] {
            let err = last_used_date(Some(bad)).unwrap_err();
            assert!(err.contains(bad) && err.starts_with("LastUsedDate"), "{err}");
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
