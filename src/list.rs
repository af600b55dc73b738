//! `keyward list`: fetch every selected provider concurrently and print the inventory as
//! an aligned table, CSV or JSON. A provider that fails does not hide the others: its
//! error goes to stderr with (provider, account, region) and the exit status is non-zero.

use crate::config::{Config, process_env};
use crate::filter::{self, Query};
use crate::findings::{self, Finding, Thresholds};
use crate::inventory::{ProviderKind, RegionOrder, Row, Scope, Timestamp, merge_listings};
use crate::providers::{Provider, ProviderError, capabilities};
use crate::registry;
use crate::text::sanitize;
use crate::times;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading.
    #[default]
    Table,
    /// A JSON array of items.
    Json,
    /// CSV with a header row.
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only this provider.
    #[arg(long, value_parser = parse_kind)]
    pub provider: Option<ProviderKind>,
    /// Only this region (Tencent) or project id (OceanBase).
    #[arg(long)]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Shorthand for --format json.
    #[arg(long, conflicts_with_all = ["csv", "format"])]
    pub json: bool,
    /// Shorthand for --format csv.
    #[arg(long, conflicts_with = "format")]
    pub csv: bool,
    /// Only rows the filter expression matches (the TUI's `/` language, e.g.
    /// 'status:enabled age>90d region:ap-*'; see the README).
    #[arg(long = "where", value_name = "EXPR", value_parser = parse_where)]
    pub filter: Option<Query>,
    /// Only rows with findings; exit status 3 when there are some, 0 when none (for cron
    /// and CI).
    #[arg(long)]
    pub findings: bool,
}

fn parse_where(text: &str) -> Result<Query, String> {
    filter::parse(text).map_err(|e| format!("{e}\n\n{}", filter::SYNTAX))
}

impl ListArgs {
    pub fn output_format(&self) -> Format {
        if self.json {
            Format::Json
        } else if self.csv {
            Format::Csv
        } else {
            self.format
        }
    }

    pub fn selection(&self) -> Selection {
        Selection {
            kind: self.provider,
            region: self.region.clone(),
        }
    }

    /// Which rows are printed: the `--where` query and `--findings`.
    pub fn rows(&self) -> RowFilter {
        RowFilter {
            query: self.filter.clone().unwrap_or_default(),
            findings_only: self.findings,
        }
    }
}

/// Which listed rows `keyward list` prints.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    pub query: Query,
    /// Only rows with a finding (`--findings`).
    pub findings_only: bool,
}

impl RowFilter {
    /// The rows to print, judged at `now` by `thresholds`: the same rules and the same
    /// matcher as the TUI's table.
    pub fn apply(&self, rows: &mut Vec<Row>, thresholds: &Thresholds, now: Timestamp) {
        if self.query.is_empty() && !self.findings_only {
            return;
        }
        let matcher = self.query.at(now);
        rows.retain(|row| {
            let found = findings::evaluate(row, thresholds, now);
            let text = filter::haystack(row);
            matcher.matches(&filter::Judged::new(row, &text, found)) && !(self.findings_only && found.is_empty())
        });
    }
}

/// `--provider`'s value: a kind's slug.
pub fn parse_kind(s: &str) -> Result<ProviderKind, String> {
    ProviderKind::from_slug(s).ok_or_else(|| {
        let all: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.slug()).collect();
        format!("unknown provider `{s}`; use one of: {}", all.join(", "))
    })
}

/// Which providers to fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub kind: Option<ProviderKind>,
    pub region: Option<String>,
}

impl Selection {
    pub fn matches(&self, p: &dyn Provider) -> bool {
        let scope = p.scope();
        self.kind.is_none_or(|k| k == scope.kind) && self.region.as_deref().is_none_or(|r| r == scope.region)
    }
}

/// One provider that could not be listed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub scope: Scope,
    pub error: ProviderError,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Scope { kind, account, region } = &self.scope;
        // The message quotes the server: escaped like any other provider text.
        write!(
            f,
            "{kind} account {account} region {region}: {}",
            sanitize(&self.error.to_string())
        )?;
        if let Some(hint) = crate::hints::for_error(&self.error) {
            write!(f, "\n  fix: {hint}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct Inventory {
    /// One row per (provider, account, id), sorted by provider, account, region, id. A key
    /// several regions list is one row (see `inventory::Row`), its first region in config
    /// order in `region`.
    pub items: Vec<Row>,
    pub failures: Vec<Failure>,
    /// How many providers were asked.
    pub providers: usize,
}

/// List the selected providers concurrently; each provider's client enforces its own
/// rate limit, so no extra throttling is needed here.
pub async fn fetch(providers: &[Arc<dyn Provider>], selection: &Selection) -> Inventory {
    let chosen: Vec<&Arc<dyn Provider>> = providers.iter().filter(|p| selection.matches(p.as_ref())).collect();
    let results = futures::future::join_all(chosen.iter().map(|p| p.list())).await;
    let mut inventory = Inventory {
        providers: chosen.len(),
        ..Inventory::default()
    };
    let mut listed = Vec::new();
    for (p, result) in chosen.iter().zip(results) {
        match result {
            Ok(items) => listed.extend(items),
            Err(error) => inventory.failures.push(Failure {
                scope: p.scope().clone(),
                error,
            }),
        }
    }
    // `providers` is in config order, which decides a merged row's first region.
    let order = RegionOrder::new(providers.iter().map(|p| p.scope().clone()));
    inventory.items = merge_listings(listed, &order);
    inventory
}

/// The field names of CSV and JSON: the CSV header and the JSON object keys, so a script
/// can switch formats without renaming anything. The table shows the same fields (its
/// header upper-cased), except the four times, which it shows as [`TABLE_COLUMNS`] does.
///
/// `region` is where keyward sends a key's calls; `regions` every region that lists it
/// (the same, unless the key is listed by several), joined with `,` (a JSON array). The
/// times are RFC 3339 UTC (`2025-03-01T08:00:00Z`), empty in CSV and `null` in JSON when
/// unknown, so scripts can compute ages themselves; `last_used` of a CAM key is midnight
/// UTC of its `LastUsedDate`.
pub const COLUMNS: [&str; 15] = [
    "provider",
    "account",
    "region",
    "id",
    "name",
    "status",
    "type",
    "description",
    "created",
    "modified",
    "last_used",
    "expires",
    "bindings",
    "regions",
    "findings",
];

/// Index of `created` in [`COLUMNS`], the first of the four times (created, modified,
/// last_used, expires): `null` in JSON when unknown.
const CREATED: usize = 8;
/// Index of `expires` in [`COLUMNS`], the last of the four times.
const EXPIRES: usize = 11;
/// Index of `bindings` in [`COLUMNS`]: JSON gives it structure, the others its text.
const BINDINGS: usize = 12;
/// Index of `regions` in [`COLUMNS`]: an array in JSON.
const REGIONS: usize = 13;
/// Index of `findings` in [`COLUMNS`]: ids in the table and CSV (`old unused`), objects
/// `{id, severity, reason}` in JSON.
const FINDINGS: usize = 14;

/// The table's fields, for reading: [`COLUMNS`] with the four times replaced by `age` (of
/// `created`: `412d`, `3h`) and `last_used` (`yesterday`, `12d ago`; `never` for a kind
/// that reports every use, blank when unknown), as the TUI shows them.
pub const TABLE_COLUMNS: [&str; 13] = [
    "provider",
    "account",
    "region",
    "id",
    "name",
    "status",
    "type",
    "description",
    "age",
    "last_used",
    "bindings",
    "regions",
    "findings",
];

/// How rows are judged for the findings column: the thresholds, at the time of printing.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    pub thresholds: &'a Thresholds,
    pub now: Timestamp,
}

impl Judge<'_> {
    fn explain(&self, row: &Row) -> Vec<Finding> {
        findings::explain(row, self.thresholds, self.now)
    }
}

fn row(item: &Row, judge: &Judge) -> [String; 15] {
    let time = |t: Option<Timestamp>| t.map(times::rfc3339).unwrap_or_default();
    [
        item.key.scope.kind.slug().to_string(),
        item.key.scope.account.to_string(),
        item.key.scope.region.to_string(),
        item.key.id.to_string(),
        item.name.to_string(),
        item.status.label().to_string(),
        item.key_type.to_string(),
        item.description.to_string(),
        time(item.created),
        time(item.modified),
        time(item.last_used),
        time(item.expires),
        item.bindings_text(),
        item.regions().collect::<Vec<_>>().join(","),
        // The ids alone, most urgent first as `explain` orders them: the reasons are
        // worded only where JSON prints them.
        findings::evaluate(item, judge.thresholds, judge.now)
            .by_urgency()
            .iter()
            .map(|f| f.slug())
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

/// One item as the table shows it at `now` (see [`TABLE_COLUMNS`]).
fn table_row(item: &Row, judge: &Judge) -> [String; 13] {
    let now = judge.now;
    let [
        provider,
        account,
        region,
        id,
        name,
        status,
        key_type,
        description,
        _,
        _,
        _,
        _,
        bindings,
        regions,
        found,
    ] = row(item, judge);
    let age = item.created.map(|t| times::age(t, now)).unwrap_or_default();
    let reported = capabilities(item.key.scope.kind).reports_last_use;
    let last_used = times::last_used_cell(item.last_used, reported, now);
    [
        provider,
        account,
        region,
        id,
        name,
        status,
        key_type,
        description,
        age,
        last_used,
        bindings,
        regions,
        found,
    ]
}

/// One item as a JSON object with the [`COLUMNS`] as keys, in that order; `bindings` is an
/// array of `{kind, id, name?}` objects and `regions` an array of region names instead of
/// the text the other formats show, and an unknown time is `null`.
struct JsonRow<'a>(&'a Row, &'a Judge<'a>);

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(COLUMNS.len()))?;
        for (i, (column, cell)) in COLUMNS.iter().zip(row(self.0, self.1)).enumerate() {
            if i == FINDINGS {
                map.serialize_entry(column, &self.1.explain(self.0))?;
            } else if i == BINDINGS {
                map.serialize_entry(column, &self.0.bindings)?;
            } else if i == REGIONS {
                map.serialize_entry(column, &self.0.regions().collect::<Vec<_>>())?;
            } else if (CREATED..=EXPIRES).contains(&i) {
                map.serialize_entry(column, &Some(cell).filter(|c| !c.is_empty()))?;
            } else {
                map.serialize_entry(column, &cell)?;
            }
        }
        map.end()
    }
}

/// Render items in a format; `judge.now` is what the table's ages are counted to and the
/// findings judged at. Items never hold secrets, so every field may be printed.
pub fn render(items: &[Row], format: Format, judge: &Judge) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(&items.iter().map(|r| JsonRow(r, judge)).collect::<Vec<_>>())
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| format!("cannot write JSON: {e}")),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let write = |w: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
                w.write_record(COLUMNS)?;
                for item in items {
                    // Quoting keeps a cell one field, but a terminal showing the file would
                    // still obey raw escape sequences: escape them as the table does.
                    w.write_record(row(item, judge).iter().map(|c| sanitize(c).into_owned()))?;
                }
                w.flush()?;
                Ok(())
            };
            write(&mut w).map_err(|e| format!("cannot write CSV: {e}"))?;
            let bytes = w.into_inner().map_err(|e| format!("cannot write CSV: {e}"))?;
            String::from_utf8(bytes).map_err(|e| format!("cannot write CSV: {e}"))
        }
        Format::Table => Ok(table(items, judge)),
    }
}

/// Aligned text. Cell text comes from the cloud, so it goes through `text::sanitize`: a key
/// named with terminal escape sequences must not be able to rewrite the operator's screen.
fn table(items: &[Row], judge: &Judge) -> String {
    let header: Vec<String> = TABLE_COLUMNS.iter().map(|c| c.to_uppercase()).collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| table_row(i, judge).iter().map(|c| sanitize(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.width());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w.saturating_sub(cell.width())));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Each distinct notice of the selected providers, once, in provider order: several
/// sources can share one (every region of a host that falls back to nearest access).
fn notices(providers: &[Arc<dyn Provider>], selection: &Selection) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in providers.iter().filter(|p| selection.matches(p.as_ref())) {
        if let Some(n) = p.notice()
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    out
}

/// What `keyward list` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub selection: Selection,
    pub format: Format,
    pub rows: RowFilter,
    pub thresholds: Thresholds,
}

/// How a listing went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// Every selected provider answered and the output was written.
    pub complete: bool,
    /// Rows printed.
    pub shown: usize,
}

impl Listed {
    /// The exit status: 3 when `--findings` printed some (what cron and CI look for, even
    /// when a provider failed: what was found stands), 1 when incomplete, else 0.
    pub fn exit_code(self, findings_only: bool) -> u8 {
        if findings_only && self.shown > 0 {
            3
        } else if !self.complete {
            1
        } else {
            0
        }
    }
}

/// Fetch, keep the rows asked for, print (ages counted to and findings judged at `now`),
/// report failures.
pub async fn run(
    providers: &[Arc<dyn Provider>],
    request: &Request,
    now: Timestamp,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Listed {
    let (selection, format) = (&request.selection, request.format);
    let failed = Listed {
        complete: false,
        shown: 0,
    };
    if providers.iter().all(|p| !selection.matches(p.as_ref())) {
        let _ = writeln!(
            err,
            "keyward: no configured provider matches{}{}",
            selection.kind.map(|k| format!(" --provider {k}")).unwrap_or_default(),
            selection
                .region
                .as_deref()
                .map(|r| format!(" --region {r}"))
                .unwrap_or_default(),
        );
        return failed;
    }
    for notice in notices(providers, selection) {
        let _ = writeln!(err, "keyward: note: {notice}");
    }
    let mut inventory = fetch(providers, selection).await;
    request.rows.apply(&mut inventory.items, &request.thresholds, now);
    let judge = Judge {
        thresholds: &request.thresholds,
        now,
    };
    let text = match render(&inventory.items, format, &judge) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "keyward: {e}");
            return failed;
        }
    };
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    let mut complete = inventory.failures.is_empty();
    match written {
        Ok(()) => {}
        // A closed pipe (`keyward list | head`) means the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            let _ = writeln!(
                err,
                "keyward: cannot write the inventory to standard output: {e}\n  \
                 fix: check the file or device it is redirected to (free space, permissions)"
            );
            complete = false;
        }
    }
    for f in &inventory.failures {
        let _ = writeln!(err, "keyward: cannot list {f}");
    }
    if !inventory.failures.is_empty() {
        let _ = writeln!(
            err,
            "keyward: {} of {} providers failed; the output above is incomplete",
            inventory.failures.len(),
            inventory.providers
        );
    }
    Listed {
        complete,
        shown: inventory.items.len(),
    }
}

/// The `keyward list` command: config -> providers -> `run`. Exit 0 when complete,
/// 1 when any provider failed, 2 when the config is unusable.
pub fn command(config: Option<&Path>, args: &ListArgs) -> ExitCode {
    let cfg = match Config::load(config, &process_env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keyward: {e}");
            return ExitCode::from(2);
        }
    };
    if cfg.is_empty() {
        eprintln!(
            "keyward: {} configures no account\n  fix: add a [[tencent]] or [[oceanbase]] table (see config.example.toml)",
            cfg.path.display()
        );
        return ExitCode::from(2);
    }
    // An account that cannot be set up is reported as its failed sources (exit 1), not
    // as a config error that hides every other account.
    let providers = registry::build_each(&cfg, &process_env);
    let request = Request {
        selection: args.selection(),
        format: args.output_format(),
        rows: args.rows(),
        thresholds: cfg.settings.findings,
    };
    let listed = crate::runtime::block_on(async {
        // Calls a killed keyward left without an outcome are re-read first (issue #15).
        crate::audit::cli::reconcile_before_listing(&cfg, &providers, &mut std::io::stderr()).await;
        run(
            &providers,
            &request,
            chrono::Utc::now(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )
        .await
    });
    match listed {
        Ok(listed) => ExitCode::from(listed.exit_code(args.findings)),
        Err(code) => code,
    }
}
