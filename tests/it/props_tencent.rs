//! Property tests for the public Tencent pieces: the TC3 signer's canonicalisation and
//! scope, `parse_authorization` as its inverse, and the custom-secret rule of UpdateApiKey.
//! The private parsers (envelope, pages, item mapping) have their proptests in their modules.

use chrono::{Days, NaiveDate};
use keyward::providers::tencent::apigateway::validate_custom_secret;
use keyward::providers::tencent::sign::{
    ALGORITHM, CONTENT_TYPE, SIGNED_HEADERS, SignInput, Signature, parse_authorization, sign,
};
use proptest::prelude::*;
use proptest::sample::Index;
use sha2::{Digest, Sha256};

const SECONDS_PER_DAY: i64 = 86_400;
/// 9999-12-31, the last day a four-digit year covers; the signer's scope date is `YYYY-MM-DD`.
const LAST_DAY: i64 = 2_932_896;

/// Owned inputs so strategies can generate them; `as_input` borrows them for `sign`.
#[derive(Debug, Clone)]
struct Owned {
    secret_id: String,
    secret_key: String,
    service: String,
    host: String,
    content_type: String,
    payload: Vec<u8>,
    timestamp: i64,
}

impl Owned {
    fn as_input(&self) -> SignInput<'_> {
        SignInput {
            secret_id: &self.secret_id,
            secret_key: &self.secret_key,
            service: &self.service,
            host: &self.host,
            content_type: &self.content_type,
            payload: &self.payload,
            timestamp: self.timestamp,
        }
    }

    fn sign(&self) -> Signature {
        sign(&self.as_input())
    }
}

/// The oracle for the payload hash, computed here rather than through the signer's helper.
fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The UTC date of a timestamp by plain day arithmetic, independent of chrono's formatting
/// of a `DateTime` (which the signer uses).
fn utc_date_oracle(timestamp: i64) -> String {
    let days = timestamp.div_euclid(SECONDS_PER_DAY);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let date = if days >= 0 {
        epoch.checked_add_days(Days::new(days as u64))
    } else {
        epoch.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    date.unwrap().to_string()
}

/// Hosts as the client sends them: a DNS name or IPv4 literal, a port only when not default.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,4}",
        "[a-z0-9.-]{1,30}:[0-9]{1,5}",
        "(25[0-5]|1?[0-9]{1,2})(\\.(25[0-5]|1?[0-9]{1,2})){3}(:[0-9]{1,5})?",
        Just("[::1]:8443".to_string()),
    ]
}

/// Content types are header values: printable ASCII, no line break.
fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![Just(CONTENT_TYPE.to_string()), "[ -~]{0,60}"]
}

/// Credential-scope parts as `parse_authorization` can take them back: no ',', '/' or ' '.
fn scope_part() -> impl Strategy<Value = String> {
    "[^,/ ]{0,40}"
}

/// Timestamps in years 0..=9999, a third of them within two seconds of a UTC midnight.
fn timestamp() -> impl Strategy<Value = i64> {
    let first = -719_528 * SECONDS_PER_DAY; // 0000-01-01
    let last = (LAST_DAY + 1) * SECONDS_PER_DAY - 1;
    prop_oneof![
        2 => first..=last,
        1 => (-719_528i64..=LAST_DAY, -2i64..=2).prop_map(|(day, off)| day * SECONDS_PER_DAY + off)
            .prop_filter("within 0000..=9999", move |t| (first..=last).contains(t)),
    ]
}

fn owned() -> impl Strategy<Value = Owned> {
    (
        scope_part(),
        "[ -~]{0,64}",
        scope_part(),
        host(),
        content_type(),
        proptest::collection::vec(any::<u8>(), 0..512),
        timestamp(),
    )
        .prop_map(
            |(secret_id, secret_key, service, host, content_type, payload, timestamp)| Owned {
                secret_id,
                secret_key,
                service,
                host,
                content_type,
                payload,
                timestamp,
            },
        )
}

/// Replaces the ASCII character at `at` with a different printable ASCII character.
fn change_ascii_byte(s: &str, at: Index, delta: u8) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let i = at.index(bytes.len());
    // 95 printable characters; a delta in 1..95 never lands on the same one.
    bytes[i] = b' ' + (bytes[i] - b' ' + delta) % 95;
    String::from_utf8(bytes).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The canonical request is exactly the eight documented lines, whatever the host,
    /// content type and payload bytes, and its last line is the payload's SHA-256.
    #[test]
    fn canonical_request_has_exactly_the_documented_lines(input in owned()) {
        let got = input.sign();
        let content_type_line = format!("content-type:{}", input.content_type);
        let host_line = format!("host:{}", input.host);
        let payload_hash = sha256_hex(&input.payload);
        let expected = [
            "POST",
            "/",
            "",
            content_type_line.as_str(),
            host_line.as_str(),
            "",
            SIGNED_HEADERS,
            payload_hash.as_str(),
        ];
        let lines: Vec<&str> = got.canonical_request.split('\n').collect();
        prop_assert_eq!(lines, expected);
    }

    /// The string to sign binds the timestamp, the scope and the canonical request's hash;
    /// the authorization header is exactly the documented format.
    #[test]
    fn string_to_sign_and_authorization_follow_the_format(input in owned()) {
        let got = input.sign();
        let scope = format!("{}/{}/tc3_request", got.date, input.service);
        let expected = format!(
            "{ALGORITHM}\n{}\n{scope}\n{}",
            input.timestamp,
            sha256_hex(got.canonical_request.as_bytes())
        );
        prop_assert_eq!(&got.string_to_sign, &expected);
        prop_assert_eq!(got.signature.len(), 64);
        prop_assert!(got.signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={}",
            input.secret_id, got.signature
        );
        prop_assert_eq!(got.authorization, authorization);
    }

    /// The scope date is the UTC calendar date of the timestamp, also in the seconds just
    /// before and after midnight (a local-time or off-by-one bug shows up exactly there).
    #[test]
    fn scope_date_is_the_utc_date_of_the_timestamp(ts in timestamp(), service in "[a-z]{1,12}") {
        let input = Owned {
            secret_id: "AKIDprop".into(),
            secret_key: "key".into(),
            service,
            host: "cvm.tencentcloudapi.com".into(),
            content_type: CONTENT_TYPE.into(),
            payload: b"{}".to_vec(),
            timestamp: ts,
        };
        let got = input.sign();
        let date = utc_date_oracle(ts);
        prop_assert_eq!(&got.date, &date);
        let scope_line = got.string_to_sign.split('\n').nth(2).unwrap_or_default();
        prop_assert_eq!(scope_line, format!("{date}/{}/tc3_request", input.service));
    }

    /// Midnight itself belongs to the new day, the second before it to the previous one.
    #[test]
    fn midnight_starts_the_next_date(day in -719_527i64..=LAST_DAY) {
        let midnight = day * SECONDS_PER_DAY;
        let sign_at = |timestamp| {
            Owned {
                secret_id: "id".into(),
                secret_key: "key".into(),
                service: "cvm".into(),
                host: "h".into(),
                content_type: CONTENT_TYPE.into(),
                payload: Vec::new(),
                timestamp,
            }
            .sign()
            .date
        };
        let before = sign_at(midnight - 1);
        let at = sign_at(midnight);
        prop_assert_ne!(&before, &at);
        prop_assert_eq!(at, sign_at(midnight + SECONDS_PER_DAY - 1));
        prop_assert_eq!(before, utc_date_oracle(midnight - 1));
    }

    /// Any i64 timestamp signs without panicking (out-of-range ones fall back to the epoch date).
    #[test]
    fn any_timestamp_signs_without_panicking(ts in any::<i64>()) {
        let input = Owned {
            secret_id: "id".into(),
            secret_key: "key".into(),
            service: "cvm".into(),
            host: "h".into(),
            content_type: CONTENT_TYPE.into(),
            payload: Vec::new(),
            timestamp: ts,
        };
        let got = input.sign();
        prop_assert_eq!(got.date.len(), 10);
        let timestamp_line = format!("\n{ts}\n");
        prop_assert!(got.string_to_sign.contains(&timestamp_line));
    }

    /// `parse_authorization` takes back exactly what `sign` put into the header.
    #[test]
    fn parse_authorization_round_trips(input in owned()) {
        let got = input.sign();
        let parsed = parse_authorization(&got.authorization);
        prop_assert!(parsed.is_some(), "not parsed: {:?}", got.authorization);
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.secret_id, input.secret_id);
        prop_assert_eq!(parsed.date, got.date);
        prop_assert_eq!(parsed.service, input.service);
        prop_assert_eq!(parsed.signed_headers, SIGNED_HEADERS);
        prop_assert_eq!(parsed.signature, got.signature);
    }

    /// Arbitrary header text never panics the parser, and whatever it accepts starts with
    /// the algorithm name.
    #[test]
    fn parse_authorization_never_panics(header in "\\PC{0,200}", tail in "[A-Za-z=/, ]{0,80}") {
        let _ = parse_authorization(&header);
        let candidate = format!("{ALGORITHM} {tail}");
        if let Some(parsed) = parse_authorization(&candidate) {
            let scope = format!("{}/{}/{}/tc3_request", parsed.secret_id, parsed.date, parsed.service);
            prop_assert!(candidate.contains(&scope), "{:?} from {:?}", scope, candidate);
        }
    }

    /// Any single-byte change of the payload changes the signature.
    #[test]
    fn a_changed_payload_byte_changes_the_signature(
        mut input in owned(),
        at in any::<Index>(),
        flip in 1u8..=255,
    ) {
        prop_assume!(!input.payload.is_empty());
        let before = input.sign().signature;
        let i = at.index(input.payload.len());
        input.payload[i] ^= flip;
        prop_assert_ne!(before, input.sign().signature);
    }

    /// Any single-character change of the secret key or the host changes the signature.
    #[test]
    fn a_changed_key_or_host_byte_changes_the_signature(
        input in owned(),
        at in any::<Index>(),
        delta in 1u8..95,
    ) {
        let before = input.sign().signature;
        if !input.secret_key.is_empty() {
            let changed = Owned { secret_key: change_ascii_byte(&input.secret_key, at, delta), ..input.clone() };
            prop_assert_ne!(&before, &changed.sign().signature, "key {:?}", changed.secret_key);
        }
        let changed = Owned { host: change_ascii_byte(&input.host, at, delta), ..input.clone() };
        prop_assert_ne!(&before, &changed.sign().signature, "host {:?}", changed.host);
    }

    /// Any change of one byte of the timestamp changes the signature, even when it moves
    /// the timestamp out of the calendar's range.
    #[test]
    fn a_changed_timestamp_byte_changes_the_signature(
        input in owned(),
        byte in 0u32..8,
        flip in 1i64..=255,
    ) {
        let before = input.sign().signature;
        let changed = Owned { timestamp: input.timestamp ^ (flip << (8 * byte)), ..input.clone() };
        prop_assert_ne!(before, changed.sign().signature);
    }

    /// Documented: "10-50 letters, digits, and underscores".
    #[test]
    fn custom_secrets_of_10_to_50_word_characters_are_accepted(s in "[A-Za-z0-9_]{10,50}") {
        prop_assert_eq!(validate_custom_secret(&s), Ok(()));
    }

    #[test]
    fn custom_secrets_of_another_length_are_refused(
        s in prop_oneof!["[A-Za-z0-9_]{0,9}", "[A-Za-z0-9_]{51,120}"],
    ) {
        let err = validate_custom_secret(&s);
        prop_assert!(err.is_err(), "accepted {} characters", s.len());
        let err = err.unwrap_err();
        prop_assert!(err.ends_with(&format!(" has {}", s.len())), "{}", err);
    }

    /// One character outside [A-Za-z0-9_] anywhere refuses the secret; the message names the
    /// position and never echoes the secret.
    #[test]
    fn a_custom_secret_with_one_other_character_is_refused(
        s in "[A-Za-z0-9_]{10,50}",
        at in any::<Index>(),
        bad in any::<char>().prop_filter("not a word character", |c| !(c.is_ascii_alphanumeric() || *c == '_')),
    ) {
        let mut chars: Vec<char> = s.chars().collect();
        let i = at.index(chars.len());
        chars[i] = bad;
        let s: String = chars.into_iter().collect();
        let err = validate_custom_secret(&s);
        prop_assert!(err.is_err(), "accepted {:?}", s);
        let err = err.unwrap_err();
        prop_assert!(err.contains(&format!("character {} ", i + 1)), "{}", err);
        prop_assert!(!err.contains(&s));
    }

    /// For any string at all, acceptance is exactly "10-50 characters, each [A-Za-z0-9_]".
    #[test]
    fn custom_secret_acceptance_is_exactly_the_rule(
        s in prop_oneof!["\\PC{0,60}", "[A-Za-z0-9_ -]{5,55}", any::<String>()],
    ) {
        let rule = (10..=50).contains(&s.chars().count())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        prop_assert_eq!(validate_custom_secret(&s).is_ok(), rule, "{:?}", s);
    }
}
