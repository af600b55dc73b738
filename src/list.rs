//! `keyward list`: fetch every selected provider concurrently and print the inventory as
//! an aligned table, CSV or JSON. A provider that fails does not hide the others: its
//! error goes to stderr with (provider, account, region) and the exit status is non-zero.

use crate::config::{Config, process_env};
use crate::inventory::{ProviderKind, RegionOrder, Row, Scope, merge_listings};
use crate::providers::{Provider, ProviderError};
use crate::registry;
use crate::text::sanitize;
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
}

fn parse_kind(s: &str) -> Result<ProviderKind, String> {
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

/// The field names of every format: the CSV header, the JSON object keys and (upper-cased)
/// the table header, so a script can switch formats without renaming anything.
///
/// `region` is where keyward sends a key's calls; `regions` every region that lists it
/// (the same, unless the key is listed by several), joined with `,` (a JSON array).
pub const COLUMNS: [&str; 13] = [
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
    "bindings",
    "regions",
];

/// Index of `bindings` in [`COLUMNS`]: JSON gives it structure, the others its text.
const BINDINGS: usize = 11;
/// Index of `regions` in [`COLUMNS`]: an array in JSON.
const REGIONS: usize = 12;

fn row(item: &Row) -> [String; 13] {
    [
        item.key.scope.kind.slug().to_string(),
        item.key.scope.account.to_string(),
        item.key.scope.region.to_string(),
        item.key.id.to_string(),
        item.name.to_string(),
        item.status.label().to_string(),
        item.key_type.to_string(),
        item.description.to_string(),
        item.created.to_string(),
        item.modified.to_string(),
        item.last_used.to_string(),
        item.bindings_text(),
        item.regions().collect::<Vec<_>>().join(","),
    ]
}

/// One item as a JSON object with the [`COLUMNS`] as keys, in that order; `bindings` is an
/// array of `{kind, id, name?}` objects and `regions` an array of region names instead of
/// the text the other formats show.
struct JsonRow<'a>(&'a Row);

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(COLUMNS.len()))?;
        for (i, (column, cell)) in COLUMNS.iter().zip(row(self.0)).enumerate() {
            if i == BINDINGS {
                map.serialize_entry(column, &self.0.bindings)?;
            } else if i == REGIONS {
                map.serialize_entry(column, &self.0.regions().collect::<Vec<_>>())?;
            } else {
                map.serialize_entry(column, &cell)?;
            }
        }
        map.end()
    }
}

/// Render items in a format. Items never hold secrets, so every field may be printed.
pub fn render(items: &[Row], format: Format) -> Result<String, String> {
    match format {
        Format::Json => serde_json::to_string_pretty(&items.iter().map(JsonRow).collect::<Vec<_>>())
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
                    w.write_record(row(item).iter().map(|c| sanitize(c).into_owned()))?;
                }
                w.flush()?;
                Ok(())
            };
            write(&mut w).map_err(|e| format!("cannot write CSV: {e}"))?;
            let bytes = w.into_inner().map_err(|e| format!("cannot write CSV: {e}"))?;
            String::from_utf8(bytes).map_err(|e| format!("cannot write CSV: {e}"))
        }
        Format::Table => Ok(table(items)),
    }
}

/// Aligned text. Cell text comes from the cloud, so it goes through `text::sanitize`: a key
/// named with terminal escape sequences must not be able to rewrite the operator's screen.
fn table(items: &[Row]) -> String {
    let header: Vec<String> = COLUMNS.iter().map(|c| c.to_uppercase()).collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| row(i).iter().map(|c| sanitize(c).into_owned()).collect())
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

/// Fetch, print, report failures; `true` when every selected provider answered.
pub async fn run(
    providers: &[Arc<dyn Provider>],
    selection: &Selection,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
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
        return false;
    }
    for notice in notices(providers, selection) {
        let _ = writeln!(err, "keyward: note: {notice}");
    }
    let inventory = fetch(providers, selection).await;
    let text = match render(&inventory.items, format) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "keyward: {e}");
            return false;
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
    complete
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
    let complete = crate::runtime::block_on(async {
        // Calls a killed keyward left without an outcome are re-read first (issue #15).
        crate::audit::cli::reconcile_before_listing(&cfg, &providers, &mut std::io::stderr()).await;
        run(
            &providers,
            &args.selection(),
            args.output_format(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )
        .await
    });
    match complete {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(code) => code,
    }
}
