//! Property tests of the filter language: printing a query and parsing it back gives the
//! same query and prints the same; no input panics the parser and every error points into
//! it; a query that says it narrows another matches only rows the other matches; a scan's
//! `Matcher` agrees with `Query::matches`.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keyward::filter::{Subject, parse};
use keyward::findings::{FindingId, FindingSet};
use keyward::inventory::{ProviderKind, Status};
use proptest::prelude::*;
use proptest::sample::select;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// `word` in a random mix of upper and lower case (keys and values are case-insensitive).
fn any_case(word: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

const STATUSES: [&str; 4] = ["enabled", "disabled", "active", "expired"];
const KINDS: [&str; 8] = [
    "cam",
    "apikey",
    "keypair",
    "maas",
    "apigateway",
    "cvm",
    "oceanbase",
    "CAM",
];
const BOUND: [&str; 4] = ["yes", "no", "true", "false"];
const CLOCKS: [&str; 3] = ["age", "unused", "lastused"];
const OPS: [&str; 4] = [">", ">=", "<", "<="];
const FIELDS: [&str; 3] = ["region", "account", "name"];

fn finding_values() -> Vec<&'static str> {
    let mut values = vec!["any", "none"];
    values.extend(FindingId::ALL.iter().map(|f| f.slug()));
    values
}

/// One valid term as the operator might type it; `small` keeps values in a few choices so
/// that generated queries overlap (for `narrows`) and times land on the rows' edges.
fn term(small: bool) -> impl Strategy<Value = String> {
    let word = if small { "[a-c]{1,2}" } else { "[a-zA-Z0-9_.é测]{1,6}" };
    let amount = if small { "(0|1|9|10|90)" } else { "[0-9]{1,5}" };
    let pattern = if small {
        "[a-c?*]{1,3}"
    } else {
        "[a-zA-Z0-9?*. \"\\\\-]{1,6}"
    };
    let body = prop_oneof![
        3 => word.prop_map(String::from),
        1 => "[a-c :\"\\\\é-]{0,6}".prop_map(|t| quote(&t)),
        1 => (any_case("status"), select(&STATUSES[..])).prop_map(|(k, v)| format!("{k}:{v}")),
        1 => select(&KINDS[..]).prop_map(|v| format!("kind:{v}")),
        1 => select(&BOUND[..]).prop_map(|v| format!("bound:{v}")),
        1 => select(finding_values()).prop_map(|v| format!("finding:{v}")),
        2 => (select(&CLOCKS[..]), select(&OPS[..]), amount, "[smhdwD]")
            .prop_map(|(k, op, n, unit)| format!("{k}{op}{n}{unit}")),
        2 => (select(&FIELDS[..]), pattern).prop_map(|(k, p)| {
            let bare = !p.contains([' ', '"']);
            format!("{k}:{}", if bare { p } else { quote(&p) })
        }),
    ];
    (any::<bool>(), body).prop_map(|(negated, body)| if negated { format!("-{body}") } else { body })
}

/// Two terms of one key (either may be negated), for `narrows` to compare.
fn term_pair() -> impl Strategy<Value = (String, String)> {
    // Few amounts and units, so that two bounds are often equal and rows sit on them.
    let time = || (select(&OPS[..]), "(1|9)", "[hd]").prop_map(|(op, n, u)| format!("{op}{n}{u}"));
    let glob = || "[a-c?*]{1,3}".prop_map(|p| format!(":{p}"));
    let text = || "[a-c]{1,3}";
    let finding = || select(finding_values()).prop_map(|v| format!(":{v}"));
    let pair = prop_oneof![
        (select(&CLOCKS[..]), time(), time()).prop_map(|(k, a, b)| (format!("{k}{a}"), format!("{k}{b}"))),
        (select(&FIELDS[..]), glob(), glob()).prop_map(|(k, a, b)| (format!("{k}{a}"), format!("{k}{b}"))),
        (text(), text()),
        (finding(), finding()).prop_map(|(a, b)| (format!("finding{a}"), format!("finding{b}"))),
    ];
    let sign = |negated: bool, t: String| if negated { format!("-{t}") } else { t };
    (pair, any::<bool>(), any::<bool>()).prop_map(move |((a, b), na, nb)| (sign(na, a), sign(nb, b)))
}

fn query_text(small: bool) -> impl Strategy<Value = String> {
    proptest::collection::vec((term(small), select(&[" ", "  ", "\t", " \n "][..])), 0..5)
        .prop_map(|terms| terms.into_iter().map(|(t, sep)| format!("{t}{sep}")).collect())
}

/// A row for the matcher, its haystack built the way the table builds one.
#[derive(Debug, Clone)]
struct Row {
    haystack: String,
    kind: ProviderKind,
    status: Status,
    account: String,
    regions: Vec<String>,
    name: String,
    bound: bool,
    created: Option<DateTime<Utc>>,
    last_used: Option<DateTime<Utc>>,
    reports_last_use: bool,
    findings: FindingSet,
}

impl Subject for Row {
    fn haystack(&self) -> &str {
        &self.haystack
    }
    fn kind(&self) -> ProviderKind {
        self.kind
    }
    fn status(&self) -> Status {
        self.status
    }
    fn account(&self) -> &str {
        &self.account
    }
    fn regions(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(String::as_str)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn is_bound(&self) -> bool {
        self.bound
    }
    fn created(&self) -> Option<DateTime<Utc>> {
        self.created
    }
    fn last_used(&self) -> Option<DateTime<Utc>> {
        self.last_used
    }
    fn reports_last_use(&self) -> bool {
        self.reports_last_use
    }
    fn findings(&self) -> FindingSet {
        self.findings
    }
}

/// A time on or one second either side of the bounds the small terms use.
fn instant() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    let offset = (
        select(&[0i64, 1, 9, 10, 90][..]),
        select(&[1i64, 60, 3_600, 86_400, 604_800][..]),
        -1i64..=1,
    )
        .prop_map(|(n, unit, nudge)| now() - TimeDelta::seconds(n * unit + nudge));
    proptest::option::weighted(0.8, offset)
}

fn row() -> impl Strategy<Value = Row> {
    let statuses = Status::ALL;
    (
        (
            select(&ProviderKind::ALL[..]),
            select(statuses.to_vec()),
            "[a-cA-C]{0,3}",
            "[a-c]{1,3}",
        ),
        (
            proptest::collection::vec("[a-c]{1,3}", 0..3),
            any::<bool>(),
            instant(),
            instant(),
            any::<bool>(),
        ),
        proptest::collection::vec(select(&FindingId::ALL[..]), 0..3),
    )
        .prop_map(
            |((kind, status, name, account), (regions, bound, created, last_used, reports), findings)| Row {
                haystack: format!(
                    "{name}\u{1f}{account}\u{1f}{}\u{1f}{}",
                    regions.join(" "),
                    status.label()
                )
                .to_lowercase(),
                kind,
                status,
                account,
                regions,
                name,
                bound,
                created,
                last_used,
                reports_last_use: reports,
                findings: findings.into_iter().collect(),
            },
        )
}

proptest! {
    #[test]
    fn printing_and_reparsing_gives_the_same_query(text in query_text(false)) {
        let query = parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let printed = query.to_string();
        let again = parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed:?}: {e}")))?;
        prop_assert_eq!(&again, &query, "{:?} printed as {:?}", text, printed);
        prop_assert_eq!(again.to_string(), printed, "printing is stable");
    }

    /// Text with every character the syntax gives meaning to: parsing never panics, a query
    /// round-trips, and an error's range is a term of the text.
    #[test]
    fn any_text_parses_or_points_at_its_bad_term(text in "[a-gs-u:<>=\"\\\\ *?0-9é-]{0,16}") {
        match parse(&text) {
            Ok(query) => prop_assert_eq!(parse(&query.to_string()), Ok(query)),
            Err(e) => {
                prop_assert!(e.range.start < e.range.end && e.range.end <= text.len(), "{:?}: {:?}", text, e);
                prop_assert!(text.is_char_boundary(e.range.start) && text.is_char_boundary(e.range.end));
                prop_assert!(!text[e.range.clone()].starts_with(char::is_whitespace));
                prop_assert!(e.message.starts_with('`') && !e.message.contains('\n'), "{}", e.message);
            }
        }
    }

    /// Whenever `narrows` says yes it is right: the newer query matches no row the older
    /// one does not. Adding terms always narrows.
    #[test]
    fn narrowing_keeps_only_rows_the_older_query_matched(
        older in query_text(true),
        newer in query_text(true),
        extra in query_text(true),
        rows in proptest::collection::vec(row(), 1..24),
    ) {
        let older = parse(&older).unwrap();
        let newer = parse(&newer).unwrap();
        let added = parse(&format!("{older} {extra}")).unwrap();
        prop_assert!(added.narrows(&older), "{} narrows {}", added, older);
        for (query, scan) in [(&older, older.at(now())), (&newer, newer.at(now()))] {
            for row in &rows {
                prop_assert_eq!(scan.matches(row), query.matches(row, now()), "{} on {:?}", query, row);
            }
        }
        for candidate in [&newer, &added] {
            if candidate.narrows(&older) {
                for row in &rows {
                    prop_assert!(
                        !candidate.matches(row, now()) || older.matches(row, now()),
                        "{} narrows {} but matches {:?}", candidate, older, row
                    );
                }
            }
        }
    }

    /// The same, one term against another of its key (the pairs where `narrows` compares
    /// bounds and patterns, which whole queries reach too rarely).
    #[test]
    fn narrowing_one_term_by_another_of_its_key_is_sound(
        (older, newer) in term_pair(),
        rows in proptest::collection::vec(row(), 1..96),
    ) {
        let older = parse(&older).unwrap();
        let newer = parse(&newer).unwrap();
        if newer.narrows(&older) {
            for row in &rows {
                prop_assert!(
                    !newer.matches(row, now()) || older.matches(row, now()),
                    "{} narrows {} but matches {:?}", newer, older, row
                );
            }
        }
    }

    /// Typing on: another character in the last word, or another word, narrows the view.
    #[test]
    fn typing_more_text_narrows(words in proptest::collection::vec("[a-z0-9]{1,4}", 1..4), more in "[a-z0-9]{1,3}") {
        let typed = words.join(" ");
        let older = parse(&typed).unwrap();
        let longer = format!("{typed}{more}");
        let another = format!("{typed} {more}");
        prop_assert!(parse(&longer).unwrap().narrows(&older), "{} narrows {}", longer, typed);
        prop_assert!(parse(&another).unwrap().narrows(&older), "{} narrows {}", another, typed);
    }
}

/// The generator reaches each kind of term (a strategy that only ever made text would pass
/// the properties above without testing the parser).
#[test]
fn the_generated_queries_reach_every_key() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut printed = String::new();
    for _ in 0..400 {
        let text = term(false).new_tree(&mut runner).unwrap().current();
        printed.push_str(&parse(&text).unwrap().to_string());
        printed.push(' ');
    }
    for key in [
        "status:", "kind:", "bound:", "finding:", "age", "unused", "lastused", "region:", "account:", "name:", "\"",
        "-",
    ] {
        assert!(printed.contains(key), "no generated term has {key}");
    }
}

/// The README documents the filter language with the very text the help overlay shows.
#[test]
fn the_readme_shows_the_syntax_the_help_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(keyward::filter::SYNTAX),
        "README.md's filter language block is out of date"
    );
}
