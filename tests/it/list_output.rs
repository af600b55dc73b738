//! `keyward list` logic against in-memory providers: formats, selection, partial failures.

use crate::support::items::{Knobs, item};
use async_trait::async_trait;
use clap::Parser;
use keyward::inventory::{Binding, Item, ProviderKind, Scope, Status};
use keyward::list::{self, Format, ListArgs, Selection};
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
    let ok = list::run(providers, &selection, format, &mut out, &mut err).await;
    (ok, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[tokio::test]
async fn json_is_an_array_of_items_sorted_by_key() {
    let (ok, out, err) = run(&fleet(), Selection::default(), Format::Json).await;
    assert!(ok, "{err}");
    assert!(err.is_empty());
    let items: Vec<Item> = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
    assert_eq!(ids, vec!["AKID1", "skey-1", "ak-2"], "apigateway, cvm, oceanbase order");
    assert_eq!(items[1].bindings, vec![Binding::Instance("ins-1".into())]);
}

/// The JSON other tools read: every text field a plain JSON string, whether it is short
/// enough to be stored inline in the item or not, and an empty field an empty string.
#[test]
fn json_text_fields_are_plain_strings() {
    // The id is 40 bytes: longer than fits inline.
    let item = item(
        ProviderKind::ApiGateway,
        "tencent-prod",
        "ap-guangzhou",
        "AKIDabcdefghijklmnopqrstuvwxyz0123456789",
        "payments-gateway-prod",
    )
    .with_status(Status::Disabled)
    .bound_to(Binding::UsagePlan("usagePlan-abc12345".into()));
    let expected = r#"[
  {
    "key": {
      "kind": "apigateway",
      "account": "tencent-prod",
      "region": "ap-guangzhou",
      "id": "AKIDabcdefghijklmnopqrstuvwxyz0123456789"
    },
    "name": "payments-gateway-prod",
    "status": "disabled",
    "key_type": "auto",
    "description": "",
    "created": "2025-03-01T08:00:00Z",
    "modified": "2025-03-02T09:30:00Z",
    "bindings": [
      {
        "kind": "usage_plan",
        "id": "usagePlan-abc12345"
      }
    ]
  }
]
"#;
    let out = list::render(std::slice::from_ref(&item), Format::Json).unwrap();
    assert_eq!(out, expected);
    let back: Vec<Item> = serde_json::from_str(&out).unwrap();
    assert_eq!(back, vec![item]);
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
            "bindings"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[1][0], "cvm");
    assert_eq!(
        &rows[1][4], "deploy, \"main\"",
        "commas and quotes survive the round trip"
    );
    assert_eq!(&rows[1][10], "instance ins-1");
    assert_eq!(&rows[2][4], "测试密钥");
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
    assert_eq!(
        lines[1],
        "apigateway  prod     ap-shanghai   AKID1   ci              enabled  auto                      \
         2025-03-01T08:00:00Z  2025-03-02T09:30:00Z"
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

#[tokio::test]
async fn selection_by_provider_and_region() {
    let selection = Selection {
        kind: Some(ProviderKind::Cvm),
        region: None,
    };
    let (_, out, _) = run(&fleet(), selection, Format::Json).await;
    let items: Vec<Item> = serde_json::from_str(&out).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].key.scope.kind, ProviderKind::Cvm);

    let selection = Selection {
        kind: None,
        region: Some("proj-1".into()),
    };
    let (_, out, _) = run(&fleet(), selection, Format::Json).await;
    let items: Vec<Item> = serde_json::from_str(&out).unwrap();
    assert_eq!(
        items.iter().map(|i| i.key.id.as_str()).collect::<Vec<_>>(),
        vec!["ak-2"]
    );

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
    let items: Vec<Item> = serde_json::from_str(&out).unwrap();
    assert_eq!(items.len(), 3, "the providers that answered are still printed");
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
    assert_eq!(inventory.items.len(), 3);
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
