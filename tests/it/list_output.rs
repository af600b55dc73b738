//! `keyward list` logic against in-memory providers: formats, selection, partial failures.

use crate::support::items::{Knobs, item, now, ts};
use async_trait::async_trait;
use clap::Parser;
use keyward::findings::Thresholds;
use keyward::inventory::{Binding, Item, ProviderKind, Row, Scope, Status};
use keyward::list::{self, Format, Judge, ListArgs, Request, Selection};
use keyward::providers::memory::MemoryProvider;
use keyward::providers::{DeleteReport, ErrorKind, Provider, ProviderError};
use std::sync::Arc;

fn mem(kind: ProviderKind, account: &str, region: &str, items: Vec<Item>) -> Arc<dyn Provider> {
    Arc::new(MemoryProvider::new(kind, account, region, items))
}

/// Always fails to list, like an account whose credentials were revoked.
struct Broken {
    scope: Scope,
}

#[async_trait]
impl Provider for Broken {
    fn scope(&self) -> &Scope {
        &self.scope
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        Err(ProviderError::new(
            ErrorKind::Auth,
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found.",
        )
        .with_request_id(Some("req-123".into())))
    }
    async fn delete(&self, _ids: &[String]) -> Result<DeleteReport, ProviderError> {
        unreachable!("list never deletes")
    }
}

fn fleet() -> Vec<Arc<dyn Provider>> {
    vec![
        mem(
            ProviderKind::OceanBase,
            "ob",
            "proj-1",
            vec![item(ProviderKind::OceanBase, "ob", "proj-1", "ak-2", "测试密钥")],
        ),
        mem(
            ProviderKind::Cvm,
            "prod",
            "ap-guangzhou",
            vec![
                item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-1", "deploy, \"main\"")
                    .bound_to(Binding::Instance("ins-1".into())),
            ],
        ),
        mem(
            ProviderKind::ApiGateway,
            "prod",
            "ap-shanghai",
            vec![item(ProviderKind::ApiGateway, "prod", "ap-shanghai", "AKID1", "ci")],
        ),
    ]
}

async fn run(providers: &[Arc<dyn Provider>], selection: Selection, format: Format) -> (bool, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let request = Request {
        selection,
        format,
        ..Request::default()
    };
    let listed = list::run(providers, &request, now(), &mut out, &mut err).await;
    (
        listed.complete,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn request(format: Format) -> Request {
    Request {
        format,
        ..Request::default()
    }
}

/// Findings judged by the default thresholds at the tests' `now`.
fn judge() -> Judge<'static> {
    static DEFAULTS: std::sync::LazyLock<Thresholds> = std::sync::LazyLock::new(Thresholds::default);
    Judge {
        thresholds: &DEFAULTS,
        now: now(),
    }
}

/// The `id` of every row of a `list --json` output.
fn json_ids(out: &str) -> Vec<String> {
    let rows: Vec<serde_json::Value> = serde_json::from_str(out).unwrap();
    rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn json_is_an_array_of_items_sorted_by_key() {
    let (ok, out, err) = run(&fleet(), Selection::default(), Format::Json).await;
    assert!(ok, "{err}");
    assert!(err.is_empty());
    assert_eq!(
        json_ids(&out),
        vec!["AKID1", "skey-1", "ak-2"],
        "apigateway, cvm, oceanbase order"
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(
        rows[1]["bindings"],
        serde_json::json!([{"kind": "instance", "id": "ins-1"}])
    );
}

/// The JSON other tools read: one flat object per item with the CSV's field names in the
/// CSV's order, every text field a plain JSON string (inline-stored or not, empty as ""),
/// every time RFC 3339 UTC or null, and a usage plan binding's id and name in separate
/// fields.
#[test]
fn json_rows_use_the_csv_field_names_and_plain_strings() {
    let item = Item {
        // 40 bytes: longer than fits inline.
        key: Scope::new(ProviderKind::ApiGateway, "tencent-prod", "ap-guangzhou")
            .key("AKIDabcdefghijklmnopqrstuvwxyz0123456789"),
        name: "payments-gateway-prod".into(),
        status: Status::Disabled,
        key_type: "auto".into(),
        description: "".into(),
        created: Some(ts("2025-03-01T08:00:00Z")),
        // Given in another zone, written in UTC.
        modified: keyward::times::parse_rfc3339("2025-03-02T17:30:00+08:00"),
        last_used: None,
        expires: None,
        bindings: vec![
            Binding::UsagePlan {
                id: "usagePlan-abc12345".into(),
                name: Some("gold (eu)".into()),
            },
            Binding::usage_plan("usagePlan-noname"),
        ],
        signs_keyward: false,
        owner_active_keys: 0,
    };
    let expected = r#"[
  {
    "provider": "apigateway",
    "account": "tencent-prod",
    "region": "ap-guangzhou",
    "id": "AKIDabcdefghijklmnopqrstuvwxyz0123456789",
    "name": "payments-gateway-prod",
    "status": "disabled",
    "type": "auto",
    "description": "",
    "created": "2025-03-01T08:00:00Z",
    "modified": "2025-03-02T09:30:00Z",
    "last_used": null,
    "expires": null,
    "bindings": [
      {
        "kind": "usage_plan",
        "id": "usagePlan-abc12345",
        "name": "gold (eu)"
      },
      {
        "kind": "usage_plan",
        "id": "usagePlan-noname"
      }
    ],
    "regions": [
      "ap-guangzhou"
    ],
    "findings": [
      {
        "id": "stale_disabled",
        "severity": "low",
        "reason": "disabled, last changed 305d ago, more than stale_disabled_days = 30: a delete candidate"
      }
    ]
  }
]
"#;
    let rows = [Row::from(item.clone())];
    let out = list::render(&rows, Format::Json, &judge()).unwrap();
    assert_eq!(out, expected);
    let csv = list::render(&rows, Format::Csv, &judge()).unwrap();
    let header = csv.lines().next().unwrap();
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&out).unwrap();
    let json_keys: Vec<&str> = rows[0].keys().map(String::as_str).collect::<Vec<_>>();
    let mut csv_keys: Vec<&str> = header.split(',').collect();
    csv_keys.sort_unstable();
    assert_eq!(json_keys, csv_keys, "the same names in both formats");
    assert_eq!(header.split(',').collect::<Vec<_>>(), list::COLUMNS);
    // Items themselves round-trip with the same binding shape.
    let back: Vec<Binding> = serde_json::from_value(rows[0]["bindings"].clone()).unwrap();
    assert_eq!(back, item.bindings);
}

#[tokio::test]
async fn csv_has_a_header_and_quotes_what_needs_quoting() {
    let (ok, out, _) = run(&fleet(), Selection::default(), Format::Csv).await;
    assert!(ok);
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        vec![
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
            "findings"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[1][0], "cvm");
    assert_eq!(
        &rows[1][4], "deploy, \"main\"",
        "commas and quotes survive the round trip"
    );
    assert_eq!(&rows[1][12], "instance ins-1");
    assert_eq!(&rows[2][4], "测试密钥");
    // Times in RFC 3339 UTC, an unknown one empty.
    assert_eq!(
        (&rows[0][8], &rows[0][9], &rows[0][10], &rows[0][11]),
        ("2025-03-01T08:00:00Z", "2025-03-02T09:30:00Z", "", "")
    );
    assert!(out.contains("\"deploy, \"\"main\"\"\""), "{out}");
}

#[tokio::test]
async fn table_columns_line_up_even_with_wide_characters() {
    let (ok, out, _) = run(&fleet(), Selection::default(), Format::Table).await;
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("PROVIDER    ACCOUNT  REGION        ID      NAME"),
        "{out}"
    );
    // Every row's STATUS cell starts at the same display column as the header's.
    let status_col = |line: &str| {
        let idx = line
            .find(" enabled")
            .or(line.find(" active"))
            .or(line.find(" STATUS"))
            .unwrap();
        unicode_width::UnicodeWidthStr::width(&line[..idx])
    };
    let cols: Vec<usize> = lines.iter().map(|l| status_col(l)).collect();
    assert!(cols.iter().all(|c| *c == cols[0]), "{cols:?}\n{out}");
    assert!(lines.iter().all(|l| !l.ends_with(' ')), "no trailing spaces");
    // DESCRIPTION and LAST_USED are blank, padded to their headers.
    let expected = format!(
        "apigateway  prod     ap-shanghai   AKID1   ci              enabled  auto{:22}306d{:29}ap-shanghai   old unattached",
        "", ""
    );
    assert_eq!(lines[1], expected);
}

/// The table shows ages and last use as the TUI does, counted to the given `now`; a kind
/// that reports every use (CAM) says `never` where another leaves the cell blank.
#[tokio::test]
async fn the_table_shows_age_and_last_use_relative_to_now() {
    let providers = vec![
        mem(
            ProviderKind::Cam,
            "prod",
            "global",
            vec![
                item(ProviderKind::Cam, "prod", "global", "AKIDused", "root")
                    .created_at("2026-01-02T00:04:05Z")
                    .last_used_at("2026-01-01T00:00:00Z"),
                item(ProviderKind::Cam, "prod", "global", "AKIDidle", "root").created_at("2026-01-02T03:00:00Z"),
            ],
        ),
        mem(
            ProviderKind::OceanBase,
            "ob",
            "proj-1",
            vec![item(ProviderKind::OceanBase, "ob", "proj-1", "ak-1", "maas")],
        ),
    ];
    let (ok, out, _) = run(&providers, Selection::default(), Format::Table).await;
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("  AGE   LAST_USED  BINDINGS  REGIONS  FINDINGS"),
        "{out}"
    );
    let cells = |id: &str| {
        let line = lines.iter().find(|l| l.contains(id)).unwrap();
        line.split_whitespace().skip(6).collect::<Vec<_>>()
    };
    assert_eq!(
        cells("AKIDidle"),
        ["auto", "4m", "never", "global"],
        "too fresh to be never_used"
    );
    assert_eq!(cells("AKIDused"), ["auto", "3h", "yesterday", "global"]);
    assert_eq!(
        cells("ak-1"),
        ["auto", "306d", "proj-1", "old"],
        "unknown last use is blank"
    );
}

#[tokio::test]
async fn table_escapes_terminal_control_sequences() {
    let evil = item(ProviderKind::OceanBase, "ob", "p", "k", "\u{1b}[2Jgotcha");
    let providers = vec![mem(ProviderKind::OceanBase, "ob", "p", vec![evil])];
    let (_, out, _) = run(&providers, Selection::default(), Format::Table).await;
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("\\u{1b}[2Jgotcha"), "{out}");
}

/// A key named or described with terminal escapes, an OSC 52 clipboard write, NUL and CR
/// must not reach the terminal raw from CSV either; quoting alone keeps it one field but
/// a terminal still obeys it.
#[tokio::test]
async fn csv_escapes_terminal_control_sequences() {
    let mut evil = item(
        ProviderKind::OceanBase,
        "ob",
        "p",
        "k",
        "\u{1b}[2Jclear\u{1b}]52;c;ZXZpbA==\u{7}",
    );
    evil.description = "nul\0 and cr\r and \u{202e}reversed".into();
    let providers = vec![mem(ProviderKind::OceanBase, "ob", "p", vec![evil])];
    let (ok, out, _) = run(&providers, Selection::default(), Format::Csv).await;
    assert!(ok);
    for raw in ['\u{1b}', '\u{7}', '\0', '\r', '\u{202e}'] {
        assert!(!out.contains(raw), "{raw:?} in {out:?}");
    }
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[4], "\\u{1b}[2Jclear\\u{1b}]52;c;ZXZpbA==\\u{7}");
    assert_eq!(&row[7], "nul\\u{0} and cr\\r and \\u{202e}reversed");
}

/// A failed write (a full disk: `keyward list > /dev/full`) is an error with a message,
/// not a silent exit 0; a reader that stops early (`| head`) is not.
#[tokio::test]
async fn a_failed_write_to_stdout_fails_the_run_but_a_closed_pipe_does_not() {
    struct Failing(std::io::ErrorKind);
    impl std::io::Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(self.0))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for format in [Format::Table, Format::Json, Format::Csv] {
        let mut err = Vec::new();
        let mut full = Failing(std::io::ErrorKind::StorageFull);
        let ok = list::run(&fleet(), &request(format), now(), &mut full, &mut err)
            .await
            .complete;
        let err = String::from_utf8(err).unwrap();
        assert!(!ok, "{format:?}: a lost inventory is a failure");
        assert!(err.contains("cannot write the inventory to standard output"), "{err}");

        let mut err = Vec::new();
        let mut closed = Failing(std::io::ErrorKind::BrokenPipe);
        let ok = list::run(&fleet(), &request(format), now(), &mut closed, &mut err)
            .await
            .complete;
        assert!(ok && err.is_empty(), "{format:?}: {}", String::from_utf8_lossy(&err));
    }
}

/// The same through the binary, as an operator would hit it: a complete listing (from the
/// emulator) redirected to a device that is full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyward_list_to_dev_full_exits_non_zero() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not a Linux-like system
    };
    let seed = keyward::emulator::Seed::demo().unwrap();
    let emu = keyward::emulator::start(keyward::emulator::EmulatorOptions::new(seed.clone()))
        .await
        .unwrap();
    let account = &seed.oceanbase_accounts()[0];
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[oceanbase]]\nname = \"ob\"\norg_id = \"{}\"\nproject_ids = [\"{}\"]\nendpoint = \"{}\"\n",
            account.org_id, account.project_ids[0], emu.base_url
        ),
    )
    .unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyward"));
    command
        .args(["list", "--csv", "--config"])
        .arg(&config)
        .env("OCEANBASE_ACCESS_KEY_ID", &account.access_key_id)
        .env("OCEANBASE_ACCESS_KEY_SECRET", &account.access_key_secret)
        .stdout(full)
        .stderr(std::process::Stdio::piped());
    // Not `output()`: it would capture stdout into a pipe instead of the full device.
    let output = command.spawn().unwrap().wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot write the inventory to standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot list"), "the listing itself worked: {stderr}");
}

/// `keyward list` over two accounts, one of which has no credentials: the other is listed,
/// the missing one is reported with its fix, and the exit status is the one of a failed
/// listing (1), not of an unusable config (2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyward_list_lists_the_accounts_that_have_credentials() {
    let seed = keyward::emulator::Seed::demo().unwrap();
    let emu = keyward::emulator::start(keyward::emulator::EmulatorOptions::new(seed.clone()))
        .await
        .unwrap();
    let account = &seed.oceanbase_accounts()[0];
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[oceanbase]]\nname = \"ob\"\norg_id = \"{org}\"\nproject_ids = [\"{project}\"]\nendpoint = \"{url}\"\n\
             [[oceanbase]]\nname = \"forgotten\"\norg_id = \"{org}\"\nproject_ids = [\"{project}\"]\nendpoint = \"{url}\"\n\
             access_key_id_env = \"FORGOTTEN_ID\"\naccess_key_secret_env = \"FORGOTTEN_SECRET\"\n",
            org = account.org_id,
            project = account.project_ids[0],
            url = emu.base_url
        ),
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["list", "--json", "--config"])
        .arg(&config)
        .env("OCEANBASE_ACCESS_KEY_ID", &account.access_key_id)
        .env("OCEANBASE_ACCESS_KEY_SECRET", &account.access_key_secret)
        .env_remove("FORGOTTEN_ID")
        .env_remove("FORGOTTEN_SECRET")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!rows.is_empty(), "{stderr}");
    assert!(rows.iter().all(|r| r["account"] == "ob"), "{rows:?}");
    assert!(stderr.contains("oceanbase account forgotten region"), "{stderr}");
    assert!(stderr.contains("fix: export FORGOTTEN_ID"), "{stderr}");
    assert!(stderr.contains("1 of 2 providers failed"), "{stderr}");
}

#[tokio::test]
async fn selection_by_provider_and_region() {
    let selection = Selection {
        kind: Some(ProviderKind::Cvm),
        region: None,
    };
    let (_, out, _) = run(&fleet(), selection, Format::Json).await;
    assert_eq!(json_ids(&out), vec!["skey-1"]);

    let selection = Selection {
        kind: None,
        region: Some("proj-1".into()),
    };
    let (_, out, _) = run(&fleet(), selection, Format::Json).await;
    assert_eq!(json_ids(&out), vec!["ak-2"]);

    let selection = Selection {
        kind: Some(ProviderKind::Cvm),
        region: Some("proj-1".into()),
    };
    let (ok, out, err) = run(&fleet(), selection, Format::Json).await;
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        err.contains("no configured provider matches --provider cvm --region proj-1"),
        "{err}"
    );
}

#[tokio::test]
async fn partial_failure_prints_the_rest_and_names_the_failing_provider() {
    let mut providers = fleet();
    providers.push(Arc::new(Broken {
        scope: Scope::new(ProviderKind::ApiGateway, "stage", "ap-beijing"),
    }));
    let (ok, out, err) = run(&providers, Selection::default(), Format::Json).await;
    assert!(!ok, "a failure makes the run fail");
    assert_eq!(json_ids(&out).len(), 3, "the providers that answered are still printed");
    assert!(
        err.contains(
            "apigateway account stage region ap-beijing: AuthFailure.SecretIdNotFound: The SecretId is not found. \
             (RequestId req-123)"
        ),
        "{err}"
    );
    assert!(err.contains("\n  fix: "), "the plain-words advice follows: {err}");
    assert!(err.contains("1 of 4 providers failed"), "{err}");
}

/// Lists only once every sibling has started listing: completes only if lists run concurrently.
struct Rendezvous {
    barrier: Arc<tokio::sync::Barrier>,
    /// A CVM region of account `acc`.
    scope: Scope,
}

#[async_trait]
impl Provider for Rendezvous {
    fn scope(&self) -> &Scope {
        &self.scope
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.barrier.wait().await;
        Ok(vec![item(ProviderKind::Cvm, "acc", &self.scope.region, "k", "n")])
    }
    async fn delete(&self, _ids: &[String]) -> Result<DeleteReport, ProviderError> {
        unreachable!("list never deletes")
    }
}

#[tokio::test]
async fn providers_are_fetched_concurrently() {
    let barrier = Arc::new(tokio::sync::Barrier::new(3));
    let providers: Vec<Arc<dyn Provider>> = (0..3)
        .map(|i| {
            Arc::new(Rendezvous {
                barrier: Arc::clone(&barrier),
                scope: Scope::new(ProviderKind::Cvm, "acc", format!("r{i}")),
            }) as Arc<dyn Provider>
        })
        .collect();
    // A sequential fetch would wait on the barrier forever; the timeout only turns that
    // hang into a failure.
    let inventory = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        list::fetch(&providers, &Selection::default()),
    )
    .await
    .expect("lists must run concurrently");
    // Each region returned the same id: one row, listed by all three.
    assert_eq!(inventory.items.len(), 1);
    assert_eq!(inventory.items[0].regions().collect::<Vec<_>>(), ["r0", "r1", "r2"]);
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    list: ListArgs,
}

#[test]
fn format_flags_and_shorthands() {
    let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("list").chain(args.iter().copied()));
    assert_eq!(parse(&[]).unwrap().list.output_format(), Format::Table);
    assert_eq!(parse(&["--json"]).unwrap().list.output_format(), Format::Json);
    assert_eq!(parse(&["--csv"]).unwrap().list.output_format(), Format::Csv);
    assert_eq!(parse(&["--format", "csv"]).unwrap().list.output_format(), Format::Csv);
    assert!(parse(&["--json", "--csv"]).is_err());
    assert!(parse(&["--json", "--format", "table"]).is_err());
    let args = parse(&["--provider", "oceanbase", "--region", "p1"]).unwrap().list;
    assert_eq!(
        args.selection(),
        Selection {
            kind: Some(ProviderKind::OceanBase),
            region: Some("p1".into())
        }
    );
    let e = parse(&["--provider", "aws"]).err().unwrap().to_string();
    assert!(e.contains("apigateway, cvm, oceanbase"), "{e}");
}

/// An in-memory source with a notice, like a Tencent region reached through the nearest host.
struct Noted {
    inner: MemoryProvider,
    notice: &'static str,
}

#[async_trait]
impl Provider for Noted {
    fn scope(&self) -> &Scope {
        self.inner.scope()
    }
    fn notice(&self) -> Option<String> {
        Some(self.notice.to_string())
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.inner.list().await
    }
    async fn delete(&self, _ids: &[String]) -> Result<DeleteReport, ProviderError> {
        unreachable!("list never deletes")
    }
}

#[tokio::test]
async fn each_distinct_notice_of_the_selected_sources_is_said_once_on_stderr() {
    let noted = |kind, region: &str, notice| -> Arc<dyn Provider> {
        Arc::new(Noted {
            inner: MemoryProvider::new(kind, "prod", region, Vec::new()),
            notice,
        })
    };
    let mut providers = fleet();
    providers.push(noted(ProviderKind::Cvm, "ap-jakarta", "ap-jakarta has no region host"));
    providers.push(noted(ProviderKind::Cvm, "ap-jakarta", "ap-jakarta has no region host"));
    providers.push(noted(
        ProviderKind::ApiGateway,
        "ap-jakarta",
        "apigateway ap-jakarta note",
    ));
    let (ok, out, err) = run(&providers, Selection::default(), Format::Json).await;
    assert!(ok, "{err}");
    assert_eq!(json_ids(&out).len(), 3, "notices go to stderr, not into the output");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            "keyward: note: ap-jakarta has no region host",
            "keyward: note: apigateway ap-jakarta note"
        ]
    );
    let only_cvm = Selection {
        kind: Some(ProviderKind::Cvm),
        ..Selection::default()
    };
    let (_, _, err) = run(&providers, only_cvm, Format::Json).await;
    assert_eq!(err, "keyward: note: ap-jakarta has no region host\n");
}

/// `keyward list --provider cam` over the demo emulator: every CAM key with its SecretId,
/// owner, status and last use, and no secret of any of them anywhere in the JSON or CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cam_keys_are_listed_with_their_secret_ids_and_never_a_secret() {
    let seed = keyward::emulator::Seed::demo().unwrap();
    let emu = keyward::emulator::start(keyward::emulator::EmulatorOptions::https(seed.clone()))
        .await
        .unwrap();
    let providers = keyward::demo::DemoConfig::new(&emu, &seed, None)
        .providers()
        .await
        .unwrap();
    let selection = Selection {
        kind: Some(ProviderKind::Cam),
        region: None,
    };
    let inventory = keyward::list::fetch(&providers, &selection).await;
    assert!(inventory.failures.is_empty(), "{:?}", inventory.failures);
    let json = keyward::list::render(&inventory.items, Format::Json, &judge()).unwrap();
    let csv = keyward::list::render(&inventory.items, Format::Csv, &judge()).unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    // Every account's, the organization members' (reached through their role) included.
    let want: Vec<String> = seed
        .tencent_accounts()
        .iter()
        .flat_map(|a| emu.state().cam_keys(&a.name).into_iter().map(|k| k.id))
        .collect();
    assert_eq!(rows.len(), want.len());
    for id in &want {
        assert!(rows.iter().any(|r| r["id"] == id.as_str()), "{id} missing");
        assert!(csv.contains(id.as_str()), "{id} missing from the CSV");
    }
    assert!(
        rows.iter().all(|r| r["provider"] == "cam" && r["region"] == "global"),
        "{json}"
    );
    assert!(
        rows.iter()
            .any(|r| r["last_used"].as_str().is_some_and(|d| d.ends_with("T00:00:00Z"))),
        "a LastUsedDate is midnight UTC of its day: {json}"
    );
    // The seed's CAM secrets (and the accounts' own SecretKeys) appear nowhere.
    let seed_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-seed.toml")).unwrap();
    for line in seed_text.lines().filter(|l| l.trim_start().starts_with("secret")) {
        let Some(secret) = line.split('"').nth(1) else { continue };
        if secret.starts_with("AKID") {
            continue; // a secret_id, listed on purpose
        }
        assert!(
            !json.contains(secret) && !csv.contains(secret),
            "a secret leaked: {line}"
        );
    }
    emu.shutdown().await;
}

/// `keyward list --findings` for cron and CI, through the binary against the emulator's
/// demo OceanBase account: exit 3 and only keys with findings while some are old; exit 0
/// and nothing printed once `max_key_age_days` (from the config) is above every key's age
/// and nothing else is found; `--where` narrows the same rows, a malformed one is refused
/// before anything is listed, naming the term.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_findings_exits_3_when_some_are_found_and_where_narrows() {
    let seed = keyward::emulator::Seed::demo().unwrap();
    let emu = keyward::emulator::start(keyward::emulator::EmulatorOptions::new(seed.clone()))
        .await
        .unwrap();
    let account = &seed.oceanbase_accounts()[0];
    let dir = tempfile::tempdir().unwrap();
    let config = |settings: &str| {
        let path = dir.path().join(format!("config{}.toml", settings.len()));
        std::fs::write(
            &path,
            format!(
                "[settings]\naudit_log = \"{}\"\n{settings}\n[[oceanbase]]\nname = \"ob\"\norg_id = \"{}\"\nproject_ids = [\"{}\"]\nendpoint = \"{}\"\n",
                dir.path().join("audit.jsonl").display(),
                account.org_id,
                account.project_ids[0],
                emu.base_url
            ),
        )
        .unwrap();
        path
    };
    let list = |config: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
            .arg("list")
            .args(args)
            .arg("--config")
            .arg(config)
            .env("OCEANBASE_ACCESS_KEY_ID", &account.access_key_id)
            .env("OCEANBASE_ACCESS_KEY_SECRET", &account.access_key_secret)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let defaults = config("");
    let (code, all, err) = list(&defaults, &["--json"]);
    assert_eq!(code, Some(0), "{err}");
    let all: Vec<serde_json::Value> = serde_json::from_str(&all).unwrap();
    let with_findings = all
        .iter()
        .filter(|r| !r["findings"].as_array().unwrap().is_empty())
        .count();
    assert!(
        with_findings > 0 && with_findings < all.len(),
        "the demo keys are mixed"
    );

    let (code, found, err) = list(&defaults, &["--findings", "--json"]);
    assert_eq!(code, Some(3), "{err}");
    let found: Vec<serde_json::Value> = serde_json::from_str(&found).unwrap();
    assert_eq!(found.len(), with_findings);
    for row in &found {
        for f in row["findings"].as_array().unwrap() {
            assert!(f["id"].is_string() && f["severity"].is_string(), "{f}");
            assert!(!f["reason"].as_str().unwrap().is_empty(), "{f}");
        }
    }

    // Only `old` among the findings: lifted above every key's age, none is left.
    let old_only = found
        .iter()
        .all(|r| r["findings"].as_array().unwrap().iter().all(|f| f["id"] == "old"));
    let lenient = config("max_key_age_days = 3650\nexpiring_days = 1");
    let (code, out, err) = list(&lenient, &["--findings", "--where", "finding:old"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 1, "the header alone: {out}");
    if old_only {
        let (code, _, _) = list(&lenient, &["--findings"]);
        assert_eq!(code, Some(0));
    }

    let (code, narrowed, _) = list(&defaults, &["--json", "--where", "finding:old -finding:expired"]);
    assert_eq!(code, Some(0));
    let narrowed: Vec<serde_json::Value> = serde_json::from_str(&narrowed).unwrap();
    assert!(narrowed.len() < all.len());
    assert!(narrowed.iter().all(|r| {
        let ids: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        ids.contains(&"old") && !ids.contains(&"expired")
    }));

    let (code, out, err) = list(&defaults, &["--where", "status:maybe"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("`status:maybe`") && err.contains("enabled, disabled, active or expired"),
        "{err}"
    );
}
