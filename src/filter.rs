//! The filter language the operator types after `/` in the TUI and passes to `keyward list
//! --where EXPR`: parsed once into a [`Query`], printed back canonically, matched against
//! rows. Pure and IO-free; the syntax itself is [`SYNTAX`].
//!
//! The API, all of it:
//! - [`parse`]`(text) -> Result<Query, FilterError>`; a [`FilterError`] carries the byte
//!   `range` of the bad term in `text` and a one-line `message` naming it and what is
//!   accepted, for an inline error under the filter.
//! - `Query` prints canonically (`Display`): `parse(&q.to_string()) == Ok(q)`.
//! - [`Query::at`]`(now)` gives a [`Matcher`] for a scan: the time bounds are turned into
//!   instants once, so each row costs a few comparisons and no allocation.
//!   [`Query::matches`]`(row, now)` is the same test for one row.
//! - [`Query::narrows`]`(older)`: every row the query matches, `older` matches too, so a
//!   view filtered with `older` may be narrowed instead of rescanned.
//! - [`Query::depends_on_time`]: whether the result can change as time passes (`age>90d`),
//!   for a caller that re-filters on a clock tick.
//! - [`Subject`]: what a row offers the matcher (implemented by the table's row with its
//!   cached haystack and findings, and by `keyward list`'s rows).
//!
//! Semantics worth knowing: comparisons are on exact instants and `>`/`<` are strict (a
//! key exactly 90 days old is not `age>90d`, it is `age>=90d`); a time term never matches
//! a row without the time it needs (`-age>90d` does); free text is a substring of the
//! row's lower-cased haystack, as the filter always was, one test per word.

use crate::findings::{FindingId, FindingSet};
use crate::inventory::{ProviderKind, Row, Status, Timestamp};
use crate::text::sanitize;
use crate::times;
use chrono::{DateTime, TimeDelta, Utc};
use std::fmt::{self, Write as _};
use std::ops::Range;

/// The syntax, for the help overlay, `keyward list --help` and the README.
pub const SYNTAX: &str = "\
Terms separated by spaces must all match; -term negates one (-status:disabled).
  web \"two words\"          text anywhere in the row, any case
  status:enabled           or disabled, active, expired
  age>90d age<12h          time since created; also >= <=; units s m h d w
  unused>30d               since last use; never used: since created (CAM)
  lastused<7d              used within 7 days; never used: no match
  region:ap-* account:prod name:billing*   whole value; * any run, ? one char
  kind:cam bound:no        kind: cam apikey keypair maas; bound: yes no
  finding:old              a finding id, or finding:any, finding:none";

/// What a row offers the matcher. Only the methods a query's terms need are called, and
/// text terms (the costliest) last.
pub trait Subject {
    /// Lower-cased text of every column (what free text is searched in).
    fn haystack(&self) -> &str;
    fn kind(&self) -> ProviderKind;
    fn status(&self) -> Status;
    fn account(&self) -> &str;
    /// Every region that lists the row (a merged row has several).
    fn regions(&self) -> impl Iterator<Item = &str>;
    fn name(&self) -> &str;
    fn is_bound(&self) -> bool;
    fn created(&self) -> Option<Timestamp>;
    fn last_used(&self) -> Option<Timestamp>;
    /// The kind reports last use for every key (CAM), so no last use means never used.
    fn reports_last_use(&self) -> bool;
    fn findings(&self) -> FindingSet;
}

/// The text free words are searched in: every column of the row, lower-cased. The table
/// computes it once per data change, so each filter keystroke is one `contains` per row. Every region that lists the row is in
/// it, so a region filter finds a merged row whichever of its regions is typed.
pub fn haystack(row: &Row) -> String {
    let item = &row.item;
    let regions = row.regions().collect::<Vec<_>>().join(" ");
    // The creation time as the detail pane shows it, so `2025-03` finds that month's keys.
    let created = item.created.map(times::rfc3339).unwrap_or_default();
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        item.name,
        item.key.id,
        item.key.scope.account,
        regions,
        item.status.label(),
        item.key_type,
        created,
        item.bindings_text(),
        item.description
    )
    .to_lowercase()
}

/// A row with its haystack and findings: the [`Subject`] the table (from its caches) and
/// `keyward list` (computed once per row) hand the matcher.
pub struct Judged<'a> {
    row: &'a Row,
    haystack: &'a str,
    findings: FindingSet,
}

impl<'a> Judged<'a> {
    pub fn new(row: &'a Row, haystack: &'a str, findings: FindingSet) -> Self {
        Judged {
            row,
            haystack,
            findings,
        }
    }
}

impl Subject for Judged<'_> {
    fn haystack(&self) -> &str {
        self.haystack
    }
    fn kind(&self) -> ProviderKind {
        self.row.key.scope.kind
    }
    fn status(&self) -> Status {
        self.row.status
    }
    fn account(&self) -> &str {
        &self.row.key.scope.account
    }
    fn regions(&self) -> impl Iterator<Item = &str> {
        self.row.regions()
    }
    fn name(&self) -> &str {
        &self.row.name
    }
    fn is_bound(&self) -> bool {
        self.row.is_bound()
    }
    fn created(&self) -> Option<Timestamp> {
        self.row.created
    }
    fn last_used(&self) -> Option<Timestamp> {
        self.row.last_used
    }
    fn reports_last_use(&self) -> bool {
        crate::providers::capabilities(self.row.key.scope.kind).reports_last_use
    }
    fn findings(&self) -> FindingSet {
        self.findings
    }
}

/// A malformed term: where it is in the text and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// Byte range of the bad term in the parsed text.
    pub range: Range<usize>,
    /// One line naming the term and what is accepted.
    pub message: String,
}

/// A parsed filter: terms combined with AND. The empty query matches every row.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// As typed, for printing.
    terms: Vec<Term>,
    /// Indexes into `terms`, cheapest test first.
    plan: Vec<usize>,
}

/// Queries are equal when their terms are (the plan is derived from them).
impl PartialEq for Query {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms
    }
}

impl Eq for Query {}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    /// Lower-cased; a substring of the haystack.
    Text(String),
    Status(Status),
    Kind(ProviderKind),
    Bound(bool),
    Finding(FindingTest),
    Time(Clock, Cmp, Span),
    Glob(Field, Glob),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FindingTest {
    Any,
    None,
    Is(FindingId),
}

/// Which instant a time term measures from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// Creation.
    Age,
    /// Last use, or creation for a never-used key of a kind that reports last use.
    Unused,
    /// Last use only.
    LastUsed,
}

/// What follows a key: `:` and a value, or a comparison and a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Is,
    Cmp(Cmp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

/// A duration as typed (`90d`), with its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    amount: i64,
    unit: Unit,
    length: TimeDelta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    S,
    M,
    H,
    D,
    W,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Region,
    Account,
    Name,
}

/// A whole-value, case-insensitive pattern, compiled into tokens once. Public so the
/// TUI's scoping (`--account 'prod-*'`, `:region ap-*`) matches as the filter does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// Lower-cased, as printed.
    pattern: String,
    tokens: Box<[Tok]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `?`
    One,
    /// `*` (runs of them are one).
    Any,
}

/// The keys a term may start with; the one list parsing, errors and printing use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Status,
    Age,
    Unused,
    LastUsed,
    Region,
    Account,
    Name,
    Kind,
    Bound,
    Finding,
}

const STATUSES: [Status; 4] = Status::ALL;

/// Durations above this are refused: no key is 10,000 years old, and a cutoff this far
/// back stays inside chrono's range.
const MAX_SECONDS: i64 = 3_650_000 * 86_400;

impl Key {
    const ALL: [Key; 10] = [
        Key::Status,
        Key::Age,
        Key::Unused,
        Key::LastUsed,
        Key::Region,
        Key::Account,
        Key::Name,
        Key::Kind,
        Key::Bound,
        Key::Finding,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Status => "status",
            Key::Age => "age",
            Key::Unused => "unused",
            Key::LastUsed => "lastused",
            Key::Region => "region",
            Key::Account => "account",
            Key::Name => "name",
            Key::Kind => "kind",
            Key::Bound => "bound",
            Key::Finding => "finding",
        }
    }

    /// `name` lower-cased already.
    fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Time keys compare (`age>90d`); the others test a value (`status:enabled`).
    fn clock(self) -> Option<Clock> {
        match self {
            Key::Age => Some(Clock::Age),
            Key::Unused => Some(Clock::Unused),
            Key::LastUsed => Some(Clock::LastUsed),
            _ => None,
        }
    }

    /// What the key's value may be, for error messages.
    fn accepts(self) -> String {
        match self {
            Key::Status => or_list(STATUSES.iter().map(|s| s.label())),
            Key::Age | Key::Unused | Key::LastUsed => format!(
                "a whole number and a unit ({}), as in 90d",
                or_list(Unit::ALL.iter().map(|u| u.letter()))
            ),
            Key::Region | Key::Account | Key::Name => "a pattern: text, * for any run, ? for one character".to_string(),
            Key::Kind => {
                let slugs: Vec<_> = ProviderKind::ALL
                    .iter()
                    .map(|k| k.slug())
                    .filter(|s| ProviderKind::ALL.iter().all(|k| kind_name(*k) != *s))
                    .collect();
                format!(
                    "{} (or {})",
                    or_list(ProviderKind::ALL.iter().map(|k| kind_name(*k))),
                    slugs.join(", ")
                )
            }
            Key::Bound => "yes or no (or true, false)".to_string(),
            Key::Finding => format!(
                "any, none or a finding id: {}",
                or_list(FindingId::ALL.iter().map(|f| f.slug()))
            ),
        }
    }
}

/// `a, b or c`.
fn or_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The name `kind:` prints: what the operator calls the thing, not the service.
fn kind_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::ApiGateway => "apikey",
        ProviderKind::Cvm => "keypair",
        ProviderKind::OceanBase => "maas",
        ProviderKind::Cam => "cam",
    }
}

fn kind_from_name(name: &str) -> Option<ProviderKind> {
    ProviderKind::ALL
        .into_iter()
        .find(|k| kind_name(*k) == name || k.slug() == name)
}

impl Unit {
    const ALL: [Unit; 5] = [Unit::S, Unit::M, Unit::H, Unit::D, Unit::W];

    fn letter(self) -> &'static str {
        match self {
            Unit::S => "s",
            Unit::M => "m",
            Unit::H => "h",
            Unit::D => "d",
            Unit::W => "w",
        }
    }

    fn seconds(self) -> i64 {
        match self {
            Unit::S => 1,
            Unit::M => 60,
            Unit::H => 3_600,
            Unit::D => 86_400,
            Unit::W => 7 * 86_400,
        }
    }
}

impl Op {
    /// Two-character comparisons first, so `>=` is not read as `>` and `=...`.
    const ALL: [Op; 5] = [
        Op::Cmp(Cmp::Ge),
        Op::Cmp(Cmp::Le),
        Op::Cmp(Cmp::Gt),
        Op::Cmp(Cmp::Lt),
        Op::Is,
    ];

    fn symbol(self) -> &'static str {
        match self {
            Op::Is => ":",
            Op::Cmp(cmp) => cmp.symbol(),
        }
    }
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }

    /// The elapsed time is bounded from below (`>`, `>=`), not above.
    fn lower(self) -> bool {
        matches!(self, Cmp::Gt | Cmp::Ge)
    }

    /// The bound itself does not match (`>`, `<`).
    fn strict(self) -> bool {
        matches!(self, Cmp::Gt | Cmp::Lt)
    }
}

impl Clock {
    fn key(self) -> Key {
        match self {
            Clock::Age => Key::Age,
            Clock::Unused => Key::Unused,
            Clock::LastUsed => Key::LastUsed,
        }
    }

    /// The instant the elapsed time is measured from; None: the term does not match.
    fn since(self, row: &impl Subject) -> Option<Timestamp> {
        match self {
            Clock::Age => row.created(),
            Clock::LastUsed => row.last_used(),
            Clock::Unused => row
                .last_used()
                .or_else(|| if row.reports_last_use() { row.created() } else { None }),
        }
    }
}

impl Field {
    fn key(self) -> Key {
        match self {
            Field::Region => Key::Region,
            Field::Account => Key::Account,
            Field::Name => Key::Name,
        }
    }
}

impl Span {
    /// The instant `now - self`: the elapsed time since `t` exceeds the span exactly when
    /// `t` is before it. Saturates at chrono's earliest instant (never reached under
    /// `MAX_SECONDS` with a real clock).
    fn cutoff(&self, now: Timestamp) -> Timestamp {
        now.checked_sub_signed(self.length).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

impl Glob {
    /// `pattern` as typed; lower-cased a character at a time, as the values are.
    pub fn new(pattern: &str) -> Glob {
        let pattern: String = pattern.chars().flat_map(char::to_lowercase).collect();
        let mut tokens: Vec<Tok> = Vec::with_capacity(pattern.len());
        for c in pattern.chars() {
            let tok = match c {
                '*' => Tok::Any,
                '?' => Tok::One,
                c => Tok::Char(c),
            };
            if !(tok == Tok::Any && tokens.last() == Some(&Tok::Any)) {
                tokens.push(tok);
            }
        }
        Glob {
            pattern,
            tokens: tokens.into_boxed_slice(),
        }
    }

    /// Whether the whole of `value` matches, ignoring case.
    pub fn matches(&self, value: &str) -> bool {
        if value.is_ascii() {
            // Most values: a byte is a character, lower-casing is a table lookup.
            glob_match(&self.tokens, value.bytes().map(|b| b.to_ascii_lowercase() as char))
        } else {
            glob_match(&self.tokens, value.chars().flat_map(char::to_lowercase))
        }
    }

    /// The pattern, lower-cased, as typed.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Tok::Char(_)))
    }

    /// `abc*`: the literal prefix, when that is the pattern's whole shape.
    fn literal_prefix(&self) -> Option<&[Tok]> {
        let (last, prefix) = self.tokens.split_last()?;
        (*last == Tok::Any && prefix.iter().all(|t| matches!(t, Tok::Char(_)))).then_some(prefix)
    }

    /// Every value this glob matches, `other` matches too (a cheap, partial check: false
    /// when unsure).
    fn implies(&self, other: &Glob) -> bool {
        if self.pattern == other.pattern || other.tokens[..] == [Tok::Any] {
            return true;
        }
        if self.is_literal() {
            return other.matches(&self.pattern);
        }
        match (self.literal_prefix(), other.literal_prefix()) {
            (Some(mine), Some(theirs)) => mine.starts_with(theirs),
            _ => false,
        }
    }
}

/// Whole-value, case-insensitive `*` / `?` match of `value` against `pattern`: the filter's
/// glob rule, shared with the config's organization member filter.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    Glob::new(pattern).matches(value)
}

/// Whole-value wildcard match of lower-cased `text` against `tokens`: the classic greedy
/// scan that, on a mismatch, lets the last `*` swallow one more character. No allocation.
fn glob_match<I: Iterator<Item = char> + Clone>(tokens: &[Tok], mut text: I) -> bool {
    let mut at = 0;
    // After the last `*`: the token that follows it and where in the text it is retried.
    let mut retry: Option<(usize, I)> = None;
    loop {
        let mut rest = text.clone();
        let Some(c) = rest.next() else {
            return tokens[at..].iter().all(|t| *t == Tok::Any);
        };
        match tokens.get(at) {
            Some(Tok::Any) => {
                retry = Some((at + 1, text.clone()));
                at += 1;
                continue;
            }
            Some(Tok::One) => {
                at += 1;
                text = rest;
                continue;
            }
            Some(Tok::Char(want)) if *want == c => {
                at += 1;
                text = rest;
                continue;
            }
            _ => {}
        }
        match &mut retry {
            Some((after_star, from)) => {
                from.next();
                at = *after_star;
                text = from.clone();
            }
            None => return false,
        }
    }
}

impl Test {
    /// Relative cost, cheapest first: fields, then times, then globs, then text.
    fn cost(&self) -> u8 {
        match self {
            Test::Status(_) | Test::Kind(_) | Test::Bound(_) | Test::Finding(_) => 0,
            Test::Time(..) => 1,
            Test::Glob(..) => 2,
            Test::Text(_) => 3,
        }
    }

    /// `cutoff` gives `now - span` for a time test (precomputed by a `Matcher`).
    fn eval(&self, row: &impl Subject, cutoff: impl FnOnce(&Span) -> Timestamp) -> bool {
        match self {
            Test::Text(needle) => row.haystack().contains(needle.as_str()),
            Test::Status(s) => row.status() == *s,
            Test::Kind(k) => row.kind() == *k,
            Test::Bound(b) => row.is_bound() == *b,
            Test::Finding(FindingTest::Any) => !row.findings().is_empty(),
            Test::Finding(FindingTest::None) => row.findings().is_empty(),
            Test::Finding(FindingTest::Is(id)) => row.findings().contains(*id),
            Test::Time(clock, cmp, span) => {
                let Some(since) = clock.since(row) else {
                    return false;
                };
                let cutoff = cutoff(span);
                match cmp {
                    Cmp::Gt => since < cutoff,
                    Cmp::Ge => since <= cutoff,
                    Cmp::Lt => since > cutoff,
                    Cmp::Le => since >= cutoff,
                }
            }
            Test::Glob(Field::Name, g) => g.matches(row.name()),
            Test::Glob(Field::Account, g) => g.matches(row.account()),
            Test::Glob(Field::Region, g) => row.regions().any(|r| g.matches(r)),
        }
    }

    /// Every row this test matches, `other` matches too (false when unsure).
    fn implies(&self, other: &Test) -> bool {
        match (self, other) {
            _ if self == other => true,
            (Test::Text(mine), Test::Text(theirs)) => mine.contains(theirs.as_str()),
            (Test::Finding(FindingTest::Is(_)), Test::Finding(FindingTest::Any)) => true,
            (Test::Glob(f1, mine), Test::Glob(f2, theirs)) => f1 == f2 && mine.implies(theirs),
            (Test::Time(c1, cmp1, s1), Test::Time(c2, cmp2, s2)) if c1 == c2 => {
                let (d1, d2) = (s1.length, s2.length);
                let tighter = if cmp1.lower() { d1 > d2 } else { d1 < d2 };
                cmp1.lower() == cmp2.lower() && (tighter || (d1 == d2 && (cmp1.strict() || !cmp2.strict())))
            }
            _ => false,
        }
    }
}

impl Term {
    fn eval(&self, row: &impl Subject, cutoff: impl FnOnce(&Span) -> Timestamp) -> bool {
        self.negated != self.test.eval(row, cutoff)
    }

    fn implies(&self, other: &Term) -> bool {
        match (self.negated, other.negated) {
            (false, false) => self.test.implies(&other.test),
            // not A implies not B when B implies A.
            (true, true) => other.test.implies(&self.test),
            _ => false,
        }
    }
}

impl Query {
    fn new(terms: Vec<Term>) -> Query {
        let mut plan: Vec<usize> = (0..terms.len()).collect();
        plan.sort_by_key(|&i| terms[i].test.cost());
        Query { terms, plan }
    }

    /// No terms: every row matches.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether `row` matches at `now`. For many rows, [`Query::at`] is cheaper.
    pub fn matches(&self, row: &impl Subject, now: Timestamp) -> bool {
        self.plan
            .iter()
            .all(|&i| self.terms[i].eval(row, |span| span.cutoff(now)))
    }

    /// A matcher for a scan at `now`, with every time bound turned into an instant once.
    pub fn at(&self, now: Timestamp) -> Matcher<'_> {
        let cutoffs = self
            .terms
            .iter()
            .map(|t| match &t.test {
                Test::Time(_, _, span) => span.cutoff(now),
                _ => DateTime::<Utc>::MIN_UTC,
            })
            .collect();
        Matcher { query: self, cutoffs }
    }

    /// Every row this query matches is matched by `older` too, so a view computed with
    /// `older` may be narrowed instead of rescanned (typing more text, adding a term,
    /// tightening a bound). False when unsure. Time terms are judged as if at one `now`:
    /// a view narrowed later keeps the older scan's verdict at a time boundary.
    pub fn narrows(&self, older: &Query) -> bool {
        older
            .terms
            .iter()
            .all(|theirs| self.terms.iter().any(|mine| mine.implies(theirs)))
    }

    /// Whether the result can change with the clock alone (a time term).
    pub fn depends_on_time(&self) -> bool {
        self.terms.iter().any(|t| matches!(t.test, Test::Time(..)))
    }
}

/// A [`Query`] bound to one instant; see [`Query::at`].
#[derive(Debug, Clone)]
pub struct Matcher<'q> {
    query: &'q Query,
    /// `now - span` for each time term, by term index (unused for the others).
    cutoffs: Vec<Timestamp>,
}

impl Matcher<'_> {
    pub fn matches(&self, row: &impl Subject) -> bool {
        self.query
            .plan
            .iter()
            .all(|&i| self.query.terms[i].eval(row, |_| self.cutoffs[i]))
    }
}

// ---- printing ----

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('-')?;
        }
        match &self.test {
            Test::Text(text) if bare_text_ok(text) => f.write_str(text),
            Test::Text(text) => write_quoted(f, text),
            Test::Status(s) => write!(f, "{}:{}", Key::Status.name(), s.label()),
            Test::Kind(k) => write!(f, "{}:{}", Key::Kind.name(), kind_name(*k)),
            Test::Bound(b) => write!(f, "{}:{}", Key::Bound.name(), if *b { "yes" } else { "no" }),
            Test::Finding(t) => {
                let value = match t {
                    FindingTest::Any => "any",
                    FindingTest::None => "none",
                    FindingTest::Is(id) => id.slug(),
                };
                write!(f, "{}:{value}", Key::Finding.name())
            }
            Test::Time(clock, cmp, span) => write!(
                f,
                "{}{}{}{}",
                clock.key().name(),
                cmp.symbol(),
                span.amount,
                span.unit.letter()
            ),
            Test::Glob(field, glob) => {
                write!(f, "{}:", field.key().name())?;
                if bare_value_ok(&glob.pattern) {
                    f.write_str(&glob.pattern)
                } else {
                    write_quoted(f, &glob.pattern)
                }
            }
        }
    }
}

/// A value after `key:` reads to the next space unless it opens with a quote.
fn bare_value_ok(value: &str) -> bool {
    !value.is_empty() && !value.starts_with('"') && !value.contains(char::is_whitespace)
}

/// Free text prints bare unless it would read as something else: a negation or a key.
fn bare_text_ok(text: &str) -> bool {
    bare_value_ok(text) && !text.starts_with('-') && key_prefix(text).is_none()
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

// ---- parsing ----

/// Parse what the operator typed. Whitespace separates terms; an empty text is the empty
/// query.
pub fn parse(text: &str) -> Result<Query, FilterError> {
    let mut terms = Vec::new();
    let mut pos = 0;
    while let Some(start) = skip_space(text, pos) {
        let (term, end) = parse_term(text, start)?;
        terms.push(term);
        pos = end;
    }
    Ok(Query::new(terms))
}

fn skip_space(text: &str, from: usize) -> Option<usize> {
    text[from..]
        .char_indices()
        .find(|(_, c)| !c.is_whitespace())
        .map(|(i, _)| from + i)
}

fn word_end(text: &str, from: usize) -> usize {
    text[from..].find(char::is_whitespace).map_or(text.len(), |i| from + i)
}

/// `status:`, `age>=`...: the key's length and the operator, when `word` starts with a
/// key-shaped run of letters and an operator (any such word is a key term, known or not).
fn key_prefix(word: &str) -> Option<(usize, Op)> {
    let len = word
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
        .count();
    if len == 0 {
        return None;
    }
    let rest = &word[len..];
    Op::ALL
        .into_iter()
        .find(|op| rest.starts_with(op.symbol()))
        .map(|op| (len, op))
}

fn error(text: &str, range: Range<usize>, what: impl fmt::Display) -> FilterError {
    let term = sanitize(&text[range.clone()]).into_owned();
    FilterError {
        range,
        message: format!("`{term}`: {what}"),
    }
}

/// One term from `start` (not whitespace): the term and where it ends.
fn parse_term(text: &str, start: usize) -> Result<(Term, usize), FilterError> {
    let negated = text[start..].starts_with('-');
    let body = start + usize::from(negated);
    if negated {
        let next = text[body..].chars().next();
        if next.is_none_or(char::is_whitespace) {
            return Err(error(
                text,
                start..body,
                "a lone - negates nothing; write it before a term, as in -status:disabled",
            ));
        }
        if next == Some('-') {
            let end = word_end(text, start);
            return Err(error(
                text,
                start..end,
                "negate once: one - before the term (quote text that starts with -)",
            ));
        }
    }
    if text[body..].starts_with('"') {
        let (value, end) = quoted(text, start, body)?;
        let test = Test::Text(value.to_lowercase());
        return Ok((Term { negated, test }, end));
    }
    let Some((key_len, op)) = key_prefix(&text[body..word_end(text, body)]) else {
        let end = word_end(text, body);
        let test = Test::Text(text[body..end].to_lowercase());
        return Ok((Term { negated, test }, end));
    };
    let value_start = body + key_len + op.symbol().len();
    let (value, end) = if text[value_start..].starts_with('"') {
        quoted(text, start, value_start)?
    } else {
        let end = word_end(text, value_start);
        (text[value_start..end].to_string(), end)
    };
    let range = start..end;
    let key_text = text[body..body + key_len].to_ascii_lowercase();
    let Some(key) = Key::from_name(&key_text) else {
        let keys: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        return Err(error(
            text,
            range,
            format_args!(
                "unknown key {key_text}; keys are {} (quote text that looks like a key)",
                keys.join(", ")
            ),
        ));
    };
    let test = match (key.clock(), op) {
        (Some(_), Op::Is) => {
            return Err(error(
                text,
                range,
                format_args!("{0} compares: {0}>90d or {0}<12h (also >=, <=)", key.name()),
            ));
        }
        (Some(clock), Op::Cmp(cmp)) => Test::Time(clock, cmp, parse_span(text, range.clone(), key, &value)?),
        (None, Op::Is) => value_test(text, range.clone(), key, &value)?,
        (None, Op::Cmp(_)) => {
            return Err(error(
                text,
                range,
                format_args!("{0} takes a value: {0}:VALUE", key.name()),
            ));
        }
    };
    Ok((Term { negated, test }, end))
}

/// A `"..."` at `quote` (inside the term from `start`): its text, with `\"` and `\\`
/// unescaped, and where the term ends, which must be right after the closing quote.
fn quoted(text: &str, start: usize, quote: usize) -> Result<(String, usize), FilterError> {
    let mut value = String::new();
    let mut chars = text[quote + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let end = quote + 1 + i + 1;
                if text[end..].starts_with(|c: char| !c.is_whitespace()) {
                    let word = word_end(text, end);
                    return Err(error(text, start..word, "put a space after the closing quote"));
                }
                return Ok((value, end));
            }
            '\\' => match chars.clone().next() {
                Some((_, escaped @ ('"' | '\\'))) => {
                    chars.next();
                    value.push(escaped);
                }
                _ => value.push('\\'),
            },
            c => value.push(c),
        }
    }
    Err(error(text, start..text.len(), "unterminated quote; close it with \""))
}

fn no_value(text: &str, range: Range<usize>, key: Key) -> FilterError {
    error(
        text,
        range,
        format_args!("no value; {} expects {}", key.name(), key.accepts()),
    )
}

fn bad_value(text: &str, range: Range<usize>, key: Key) -> FilterError {
    error(text, range, format_args!("{} expects {}", key.name(), key.accepts()))
}

fn parse_span(text: &str, range: Range<usize>, key: Key, value: &str) -> Result<Span, FilterError> {
    if value.is_empty() {
        return Err(no_value(text, range, key));
    }
    let lower = value.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = Unit::ALL.into_iter().find(|u| u.letter() == &lower[digits.len()..]);
    let (Some(unit), false, true) = (unit, digits.is_empty(), digits.bytes().all(|b| b.is_ascii_digit())) else {
        return Err(bad_value(text, range, key));
    };
    let too_long = || {
        error(
            text,
            range.clone(),
            format_args!("too long; at most {}d", MAX_SECONDS / Unit::D.seconds()),
        )
    };
    let amount: i64 = digits.parse().map_err(|_| too_long())?;
    let seconds = amount.checked_mul(unit.seconds()).filter(|s| *s <= MAX_SECONDS);
    let length = seconds.and_then(TimeDelta::try_seconds).ok_or_else(too_long)?;
    Ok(Span { amount, unit, length })
}

fn value_test(text: &str, range: Range<usize>, key: Key, value: &str) -> Result<Test, FilterError> {
    if value.is_empty() {
        return Err(no_value(text, range, key));
    }
    let lower = value.to_lowercase();
    let test = match key {
        Key::Status => STATUSES.into_iter().find(|s| s.label() == lower).map(Test::Status),
        Key::Kind => kind_from_name(&lower).map(Test::Kind),
        Key::Bound => match lower.as_str() {
            "yes" | "true" => Some(Test::Bound(true)),
            "no" | "false" => Some(Test::Bound(false)),
            _ => None,
        },
        Key::Finding => match lower.as_str() {
            "any" => Some(FindingTest::Any),
            "none" => Some(FindingTest::None),
            slug => FindingId::from_slug(slug).map(FindingTest::Is),
        }
        .map(Test::Finding),
        Key::Region => Some(Test::Glob(Field::Region, Glob::new(value))),
        Key::Account => Some(Test::Glob(Field::Account, Glob::new(value))),
        Key::Name => Some(Test::Glob(Field::Name, Glob::new(value))),
        Key::Age | Key::Unused | Key::LastUsed => None,
    };
    test.ok_or_else(|| bad_value(text, range, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn days(n: i64) -> TimeDelta {
        TimeDelta::days(n)
    }

    /// A row with every field set to something a test can flip.
    #[derive(Clone)]
    struct Fake {
        haystack: String,
        kind: ProviderKind,
        status: Status,
        account: String,
        regions: Vec<String>,
        name: String,
        bound: bool,
        created: Option<Timestamp>,
        last_used: Option<Timestamp>,
        reports_last_use: bool,
        findings: FindingSet,
    }

    impl Fake {
        fn new() -> Fake {
            Fake {
                haystack: "billing-prod\u{1f}akid1\u{1f}prod\u{1f}ap-guangzhou\u{1f}enabled".into(),
                kind: ProviderKind::Cam,
                status: Status::Enabled,
                account: "Prod".into(),
                regions: vec!["ap-guangzhou".into()],
                name: "Billing-Prod".into(),
                bound: false,
                created: Some(now() - days(100)),
                last_used: Some(now() - days(10)),
                reports_last_use: true,
                findings: [FindingId::Old].into_iter().collect(),
            }
        }
    }

    impl Subject for Fake {
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
        fn created(&self) -> Option<Timestamp> {
            self.created
        }
        fn last_used(&self) -> Option<Timestamp> {
            self.last_used
        }
        fn reports_last_use(&self) -> bool {
            self.reports_last_use
        }
        fn findings(&self) -> FindingSet {
            self.findings
        }
    }

    fn q(text: &str) -> Query {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    /// `text` matches `row`, asserted through both `matches` and a `Matcher`.
    fn hit(text: &str, row: &Fake) -> bool {
        let query = q(text);
        let one = query.matches(row, now());
        assert_eq!(one, query.at(now()).matches(row), "{text}: Matcher disagrees");
        one
    }

    fn err(text: &str) -> FilterError {
        match parse(text) {
            Ok(q) => panic!("{text:?} parsed as {q:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn free_text_is_a_substring_of_the_haystack_and_words_combine_with_and() {
        let row = Fake::new();
        assert!(hit("", &row));
        assert!(hit("billing", &row));
        assert!(hit("BILL guang", &row), "case-insensitive, AND of two words");
        assert!(!hit("billing shanghai", &row), "every word must match");
        assert!(!hit("\"billing guang\"", &row), "a quoted phrase is one substring");
        assert!(hit("\"ap-guangzhou\"", &row));
        assert!(
            hit("10:30", &row) == row.haystack.contains("10:30"),
            "not key-shaped: text"
        );
        assert!(q("").is_empty());
        assert!(!q("x").is_empty());
    }

    #[test]
    fn status_kind_bound_and_finding_test_their_field() {
        let mut row = Fake::new();
        assert!(hit("status:enabled", &row));
        assert!(!hit("status:disabled", &row));
        row.status = Status::Expired;
        assert!(hit("status:expired", &row));

        assert!(hit("kind:cam", &row));
        assert!(!hit("kind:maas", &row));
        for (name, kind) in [
            ("apikey", ProviderKind::ApiGateway),
            ("apigateway", ProviderKind::ApiGateway),
            ("keypair", ProviderKind::Cvm),
            ("cvm", ProviderKind::Cvm),
            ("maas", ProviderKind::OceanBase),
            ("oceanbase", ProviderKind::OceanBase),
        ] {
            row.kind = kind;
            assert!(hit(&format!("kind:{name}"), &row), "{name}");
            assert!(!hit("kind:cam", &row), "{name}");
        }

        assert!(hit("bound:no", &row) && hit("bound:false", &row));
        assert!(!hit("bound:yes", &row));
        row.bound = true;
        assert!(hit("bound:yes", &row) && hit("bound:true", &row));

        assert!(hit("finding:old", &row) && hit("finding:any", &row));
        assert!(!hit("finding:unused", &row) && !hit("finding:none", &row));
        row.findings = FindingSet::EMPTY;
        assert!(!hit("finding:old", &row) && !hit("finding:any", &row));
        assert!(hit("finding:none", &row));
        for id in FindingId::ALL {
            row.findings = [id].into_iter().collect();
            assert!(hit(&format!("finding:{id}"), &row), "{id}");
        }
    }

    #[test]
    fn age_bounds_are_strict_at_the_exact_instant() {
        let mut row = Fake::new();
        row.created = Some(now() - days(90));
        assert!(!hit("age>90d", &row), "exactly 90 days is not more than 90");
        assert!(hit("age>=90d", &row));
        assert!(!hit("age<90d", &row));
        assert!(hit("age<=90d", &row));
        row.created = Some(now() - days(90) - TimeDelta::seconds(1));
        assert!(hit("age>90d", &row), "one second over");
        assert!(!hit("age<=90d", &row));
        row.created = Some(now() - days(90) + TimeDelta::seconds(1));
        assert!(!hit("age>90d", &row), "one second under");
        assert!(hit("age<90d", &row));
        for (unit, secs) in [("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800)] {
            row.created = Some(now() - TimeDelta::seconds(3 * secs));
            assert!(
                hit(&format!("age>=3{unit}"), &row) && !hit(&format!("age>3{unit}"), &row),
                "{unit}"
            );
            assert!(
                hit(&format!("age<4{unit}"), &row) && !hit(&format!("age<3{unit}"), &row),
                "{unit}"
            );
        }
        row.created = None;
        assert!(
            !hit("age>0s", &row) && !hit("age<9999d", &row),
            "no creation time: no age"
        );
        assert!(hit("-age>0s", &row));
    }

    #[test]
    fn unused_falls_back_to_creation_only_where_the_kind_reports_last_use() {
        let mut row = Fake::new();
        row.last_used = Some(now() - days(30));
        assert!(!hit("unused>30d", &row) && hit("unused>=30d", &row));
        row.last_used = Some(now() - days(30) - TimeDelta::seconds(1));
        assert!(hit("unused>30d", &row));

        row.last_used = None;
        row.created = Some(now() - days(100));
        assert!(hit("unused>30d", &row), "never used: since creation");
        row.created = Some(now() - days(20));
        assert!(!hit("unused>30d", &row) && hit("unused<30d", &row));
        row.reports_last_use = false;
        assert!(
            !hit("unused>1s", &row) && !hit("unused<9999d", &row),
            "last use unknown: no match"
        );
        row.last_used = Some(now() - days(40));
        assert!(
            hit("unused>30d", &row),
            "a known last use counts whatever the kind says"
        );
    }

    #[test]
    fn lastused_needs_a_last_use() {
        let mut row = Fake::new();
        row.last_used = Some(now() - days(7));
        assert!(!hit("lastused<7d", &row) && hit("lastused<=7d", &row));
        row.last_used = Some(now() - days(7) + TimeDelta::seconds(1));
        assert!(hit("lastused<7d", &row));
        assert!(!hit("lastused>7d", &row));
        row.last_used = None;
        assert!(!hit("lastused<7d", &row) && !hit("lastused>0s", &row), "never used");
        assert!(hit("-lastused<7d", &row));
    }

    #[test]
    fn globs_match_the_whole_value_case_insensitively() {
        let mut row = Fake::new();
        assert!(hit("name:billing-prod", &row), "literal, case-insensitive");
        assert!(!hit("name:billing", &row), "whole value, not a prefix");
        assert!(hit("name:billing*", &row) && hit("name:*PROD", &row) && hit("name:b*g-*d", &row));
        assert!(hit("name:billing-pro?", &row) && !hit("name:billing-prod?", &row));
        assert!(hit("name:*", &row) && hit("name:**-**", &row));
        assert!(!hit("name:*x*", &row));
        assert!(hit("account:prod", &row) && !hit("account:pro", &row));
        row.name = "测试Key".into();
        assert!(hit("name:测试key", &row) && hit("name:??key", &row) && hit("name:测*", &row));
        assert!(!hit("name:???key", &row), "? is one character, not one byte");
        row.name = String::new();
        assert!(hit("name:*", &row) && !hit("name:?", &row));
        row.name = "aaab".into();
        assert!(hit("name:*a*ab", &row), "a star retries after a partial match");
    }

    #[test]
    fn a_merged_row_matches_when_any_of_its_regions_does() {
        let mut row = Fake::new();
        row.regions = vec!["na-ashburn".into(), "ap-guangzhou".into()];
        assert!(hit("region:ap-*", &row) && hit("region:na-*", &row));
        assert!(!hit("region:eu-*", &row));
        assert!(hit("-region:eu-*", &row) && !hit("-region:ap-*", &row));
        row.regions.clear();
        assert!(!hit("region:*", &row));
    }

    #[test]
    fn a_minus_negates_any_term() {
        let row = Fake::new();
        for text in [
            "billing",
            "\"billing-prod\"",
            "status:enabled",
            "kind:cam",
            "bound:no",
            "finding:old",
            "age>90d",
            "unused>5d",
            "lastused<30d",
            "region:ap-*",
            "account:prod",
            "name:billing*",
        ] {
            assert!(hit(text, &row), "{text}");
            assert!(!hit(&format!("-{text}"), &row), "-{text}");
        }
        assert!(hit("-status:disabled -\"foo bar\" -web", &row));
        assert!(!hit("-status:disabled -billing", &row), "AND: one false term is enough");
    }

    #[test]
    fn keys_and_values_are_case_insensitive_and_print_canonically() {
        for (typed, printed) in [
            ("STATUS:Enabled  Age>=90D", "status:enabled age>=90d"),
            (
                "kind:cvm kind:OceanBase kind:apigateway",
                "kind:keypair kind:maas kind:apikey",
            ),
            ("bound:TRUE bound:false", "bound:yes bound:no"),
            ("finding:Never_Used -finding:ANY", "finding:never_used -finding:any"),
            ("Name:Billing* region:AP-?", "name:billing* region:ap-?"),
            ("Web \"Two  Words\" -\"-x\"", "web \"two  words\" -\"-x\""),
            ("\"status:x\" \"a\\\"b\\\\c\"", "\"status:x\" a\"b\\c"),
            ("\"a b\\\"c\\\\\"", "\"a b\\\"c\\\\\""),
            (
                "name:\"two words\" account:\"\\\"q\"",
                "name:\"two words\" account:\"\\\"q\"",
            ),
            ("lastused<14d unused>2w", "lastused<14d unused>2w"),
            ("ab\"cd", "ab\"cd"),
            ("\"\"", "\"\""),
        ] {
            let query = q(typed);
            assert_eq!(query.to_string(), printed, "{typed}");
            assert_eq!(q(printed), query, "{printed} re-parses to the same query");
        }
    }

    /// Each malformed term: its message (naming the term and what is accepted) and range.
    #[test]
    fn every_error_names_the_term_and_what_is_accepted() {
        for (text, range, message) in [
            (
                "web colour:red",
                4..14,
                "`colour:red`: unknown key colour; keys are status, age, unused, lastused, region, account, name, kind, bound, finding (quote text that looks like a key)",
            ),
            (
                "status:maybe",
                0..12,
                "`status:maybe`: status expects enabled, disabled, active or expired",
            ),
            (
                "x status:",
                2..9,
                "`status:`: no value; status expects enabled, disabled, active or expired",
            ),
            (
                "name:\"\"",
                0..7,
                "`name:\"\"`: no value; name expects a pattern: text, * for any run, ? for one character",
            ),
            (
                "age>90x",
                0..7,
                "`age>90x`: age expects a whole number and a unit (s, m, h, d or w), as in 90d",
            ),
            (
                "age>d",
                0..5,
                "`age>d`: age expects a whole number and a unit (s, m, h, d or w), as in 90d",
            ),
            (
                "age>90",
                0..6,
                "`age>90`: age expects a whole number and a unit (s, m, h, d or w), as in 90d",
            ),
            (
                "age>+9d",
                0..7,
                "`age>+9d`: age expects a whole number and a unit (s, m, h, d or w), as in 90d",
            ),
            (
                "unused>",
                0..7,
                "`unused>`: no value; unused expects a whole number and a unit (s, m, h, d or w), as in 90d",
            ),
            ("age>3650001d", 0..12, "`age>3650001d`: too long; at most 3650000d"),
            (
                "age>99999999999999999999s",
                0..25,
                "`age>99999999999999999999s`: too long; at most 3650000d",
            ),
            (
                "age:90d",
                0..7,
                "`age:90d`: age compares: age>90d or age<12h (also >=, <=)",
            ),
            (
                "status>enabled",
                0..14,
                "`status>enabled`: status takes a value: status:VALUE",
            ),
            (
                "kind:s3",
                0..7,
                "`kind:s3`: kind expects apikey, keypair, maas or cam (or apigateway, cvm, oceanbase)",
            ),
            (
                "bound:maybe",
                0..11,
                "`bound:maybe`: bound expects yes or no (or true, false)",
            ),
            (
                "finding:ancient",
                0..15,
                "`finding:ancient`: finding expects any, none or a finding id: old, unused, never_used, two_active, expiring, expired, stale_disabled or unattached",
            ),
            (
                "a \"two words",
                2..12,
                "`\"two words`: unterminated quote; close it with \"",
            ),
            ("name:\"x y", 0..9, "`name:\"x y`: unterminated quote; close it with \""),
            ("\"ab\"cd e", 0..6, "`\"ab\"cd`: put a space after the closing quote"),
            (
                "web -",
                4..5,
                "`-`: a lone - negates nothing; write it before a term, as in -status:disabled",
            ),
            (
                "- web",
                0..1,
                "`-`: a lone - negates nothing; write it before a term, as in -status:disabled",
            ),
            (
                "--web",
                0..5,
                "`--web`: negate once: one - before the term (quote text that starts with -)",
            ),
            (
                "-colour:red",
                0..11,
                "`-colour:red`: unknown key colour; keys are status, age, unused, lastused, region, account, name, kind, bound, finding (quote text that looks like a key)",
            ),
            (
                "x:\u{1b}[2J",
                0..6,
                "`x:\\u{1b}[2J`: unknown key x; keys are status, age, unused, lastused, region, account, name, kind, bound, finding (quote text that looks like a key)",
            ),
        ] {
            let e = err(text);
            assert_eq!((e.range.clone(), e.message.as_str()), (range, message), "{text:?}");
            assert_eq!(e.to_string(), e.message);
        }
    }

    #[test]
    fn narrows_when_text_grows_or_terms_are_added_or_tightened() {
        for (newer, older) in [
            ("web", ""),
            ("web", "we"),
            ("we b", "we"),
            ("web status:enabled", "web"),
            ("status:enabled web", "web"),
            ("age>100d", "age>90d"),
            ("age>90d", "age>=90d"),
            ("age>=90d", "age>=90d"),
            ("age<12h", "age<1d"),
            ("age<=1d", "age<2d"),
            ("-age>90d", "-age>100d"),
            ("-web", "-webs"),
            ("finding:old", "finding:any"),
            ("name:billing-prod", "name:billing*"),
            ("name:billing*", "name:bill*"),
            ("region:ap-x", "region:ap-?"),
            ("name:b?g", "name:*"),
            ("status:enabled age>100d", "age>90d status:enabled"),
        ] {
            assert!(q(newer).narrows(&q(older)), "{newer:?} narrows {older:?}");
        }
        for (newer, older) in [
            ("age<90d", "age>9d"),
            ("age>9d", "age>90d"),
            ("age>=90d", "age>90d"),
            ("we", "web"),
            ("", "web"),
            ("-webs", "-web"),
            ("web", "-web"),
            ("unused>90d", "age>90d"),
            ("lastused>90d", "unused>90d"),
            ("name:bill", "name:billing*"),
            ("name:bill*", "name:billing*"),
            ("account:billing*", "name:billing*"),
            ("status:enabled", "status:disabled"),
            ("finding:any", "finding:old"),
        ] {
            assert!(!q(newer).narrows(&q(older)), "{newer:?} does not narrow {older:?}");
        }
    }

    #[test]
    fn only_time_terms_depend_on_time() {
        assert!(!q("web status:enabled name:x* finding:any").depends_on_time());
        for text in ["age>1d", "-unused<2h", "x lastused>=3w"] {
            assert!(q(text).depends_on_time(), "{text}");
        }
    }

    /// The const the help and README print documents every key and every value it can.
    #[test]
    fn syntax_mentions_every_key_and_value() {
        let mut words: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        words.extend(STATUSES.iter().map(|s| s.label()));
        words.extend(ProviderKind::ALL.iter().map(|k| kind_name(*k)));
        words.extend(["any", "none", "-", "*", "?", ">=", "<="]);
        for word in words {
            assert!(SYNTAX.contains(word), "SYNTAX does not mention {word}");
        }
        let units: String = Unit::ALL.iter().map(|u| u.letter()).collect::<Vec<_>>().join(" ");
        assert!(SYNTAX.contains(&units), "SYNTAX lists the units {units}");
        assert!(SYNTAX.lines().count() <= 9);
    }
}
