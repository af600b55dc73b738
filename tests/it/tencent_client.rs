//! The Tencent Cloud API 3.0 client against an in-process fake that verifies signatures.

use crate::support::tencent::{Fake, Reply, SECRET_KEY, client_for, creds};
use keyward::providers::ErrorKind;
use keyward::providers::http::Retry;
use keyward::providers::tencent::client::{APIGATEWAY, CVM, ClientOptions, TencentClient};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::test]
async fn signed_request_carries_action_version_region_and_exact_host() {
    let fake = Fake::start(CVM, |_| Reply::Ok(json!({ "TotalCount": 0, "KeyPairSet": [] }))).await;
    let client = fake.client(CVM, 0);
    let (response, request_id) = client
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({ "Limit": 1 }), Retry::Read)
        .await
        .unwrap();
    assert_eq!(request_id, "req-1");
    assert_eq!(response["RequestId"], "req-1");
    assert_eq!(response["TotalCount"], 0);
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].action, "DescribeKeyPairs");
    assert_eq!(seen[0].version, "2017-03-12");
    assert_eq!(seen[0].region, "ap-guangzhou");
    // The fake answered from its handler only because the signature over this Host verified.
    assert_eq!(seen[0].host, fake.addr.to_string());
    assert_eq!(seen[0].params, json!({ "Limit": 1 }));
    assert_eq!(seen[0].token, None);
}

#[tokio::test]
async fn session_token_is_sent_only_with_temporary_credentials() {
    let fake = Fake::start(APIGATEWAY, |_| Reply::Ok(json!({}))).await;
    let with_token = client_for(APIGATEWAY, fake.options(0), creds(Some("session-token-1")));
    with_token
        .call("ap-guangzhou", "X", &json!({}), Retry::Read)
        .await
        .unwrap();
    let without = client_for(APIGATEWAY, fake.options(0), creds(None));
    without
        .call("ap-guangzhou", "X", &json!({}), Retry::Read)
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(seen[0].token.as_deref(), Some("session-token-1"));
    assert_eq!(seen[1].token, None);
}

#[tokio::test]
async fn a_wrong_secret_key_surfaces_signature_failure_with_its_request_id() {
    let fake = Fake::start(APIGATEWAY, |_| Reply::Ok(json!({}))).await;
    let mut bad = creds(None);
    bad.secret_key = format!("{SECRET_KEY}x").as_str().into();
    let client = client_for(APIGATEWAY, fake.options(3), bad);
    let err = client
        .call("ap-guangzhou", "DescribeApiKeysStatus", &json!({}), Retry::Read)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.code, "AuthFailure.SignatureFailure");
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
    assert_eq!(fake.seen().len(), 1, "auth failures are not retried");
}

/// Fails the first `failures.len()` requests with the given replies, then succeeds.
fn failing_then_ok(failures: Vec<fn() -> Reply>) -> impl Fn(&crate::support::tencent::Seen) -> Reply + Send + Sync {
    let n = AtomicUsize::new(0);
    move |_| match failures.get(n.fetch_add(1, Ordering::SeqCst)) {
        Some(f) => f(),
        None => Reply::Ok(json!({ "Result": true })),
    }
}

#[tokio::test]
async fn reads_retry_rate_limits_and_server_errors() {
    let fake = Fake::start(
        CVM,
        failing_then_ok(vec![
            || Reply::Error("RequestLimitExceeded", "slow down"),
            || Reply::Raw(500, "oops".into()),
            || Reply::Error("InternalError", "try again"),
        ]),
    )
    .await;
    let client = fake.client(CVM, 3);
    let (_, request_id) = client
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
        .await
        .unwrap();
    assert_eq!(request_id, "req-4");
    assert_eq!(fake.seen().len(), 4);
}

#[tokio::test]
async fn read_retries_stop_at_max_retries() {
    let fake = Fake::start(CVM, |_| Reply::Raw(503, "down".into())).await;
    let err = fake
        .client(CVM, 2)
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Server, "HttpStatus503"));
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn writes_retry_a_rate_limit_because_it_certainly_did_not_apply() {
    let fake = Fake::start(
        APIGATEWAY,
        failing_then_ok(vec![|| Reply::Error("RequestLimitExceeded", "slow down")]),
    )
    .await;
    let (_, request_id) = fake
        .client(APIGATEWAY, 3)
        .call(
            "ap-guangzhou",
            "DeleteApiKey",
            &json!({ "AccessKeyId": "AKID1" }),
            Retry::Write,
        )
        .await
        .unwrap();
    assert_eq!(request_id, "req-2");
}

#[tokio::test]
async fn writes_are_not_retried_after_a_server_error() {
    for reply in [|| Reply::Raw(500, "oops".into()), || Reply::Error("InternalError", "x")] {
        let fake = Fake::start(APIGATEWAY, failing_then_ok(vec![reply])).await;
        let err = fake
            .client(APIGATEWAY, 3)
            .call(
                "ap-guangzhou",
                "DeleteApiKey",
                &json!({ "AccessKeyId": "AKID1" }),
                Retry::Write,
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Server);
        assert_eq!(
            fake.seen().len(),
            1,
            "a DeleteApiKey that may have happened must not be resent"
        );
    }
}

#[tokio::test]
async fn writes_are_not_retried_after_a_timeout_but_reads_are() {
    let fake = Fake::start(APIGATEWAY, |_| Reply::Hang(Duration::from_secs(5))).await;
    let opts = ClientOptions {
        timeout: Duration::from_millis(150),
        ..fake.options(2)
    };
    let client = client_for(APIGATEWAY, opts, creds(None));
    let err = client
        .call(
            "ap-guangzhou",
            "UpdateApiKey",
            &json!({ "AccessKeyId": "AKID1" }),
            Retry::Write,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("may or may not"), "{}", err.message);
    assert_eq!(fake.actions(), ["UpdateApiKey"]);

    let err = client
        .call("ap-guangzhou", "DescribeApiKeysStatus", &json!({}), Retry::Read)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(fake.seen().len(), 1 + 3);
}

#[tokio::test]
async fn a_write_is_retried_when_the_connection_was_refused() {
    // Reserve a port, close it (connections are refused), and open it shortly after.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let opts = ClientOptions {
        endpoint: Some(format!("http://{addr}")),
        timeout: Duration::from_secs(2),
        max_retries: 5,
        ..ClientOptions::default()
    };
    let client = TencentClient::new(APIGATEWAY, creds(None), opts)
        .unwrap()
        .with_backoff(Duration::from_millis(100), Duration::from_millis(400));
    let call = tokio::spawn(async move {
        client
            .call(
                "ap-guangzhou",
                "DisableApiKey",
                &json!({ "AccessKeyId": "AKID1" }),
                Retry::Write,
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let fake = Fake::serve(listener, APIGATEWAY, |_| Reply::Ok(json!({ "Result": true })));
    let (_, request_id) = call.await.unwrap().unwrap();
    assert_eq!(request_id, "req-1");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_that_says_nothing_was_sent() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let opts = ClientOptions {
        endpoint: Some(format!("http://{addr}")),
        max_retries: 1,
        ..ClientOptions::default()
    };
    let client = client_for(CVM, opts, creds(None));
    let err = client
        .call("ap-guangzhou", "DeleteKeyPairs", &json!({}), Retry::Write)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Transport, "ConnectFailed"));
    assert!(err.certainly_not_applied());
    assert!(err.message.contains("not sent"), "{}", err.message);
}

#[tokio::test]
async fn a_non_json_answer_is_a_protocol_error_quoting_a_bounded_prefix() {
    let fake = Fake::start(CVM, |_| {
        Reply::Raw(200, format!("<html>{}</html>", "z".repeat(100_000)))
    })
    .await;
    let err = fake
        .client(CVM, 3)
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("<html>"), "{}", err.message);
    assert!(err.message.len() < 600, "message is {} bytes", err.message.len());
    assert_eq!(fake.seen().len(), 1, "protocol errors are not retried");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let opts = ClientOptions {
        endpoint: Some("http://apigateway.example.com:8080".into()),
        ..ClientOptions::default()
    };
    let err = TencentClient::new(APIGATEWAY, creds(None), opts).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("https"), "{}", err.message);
}

/// The service's limiter as the emulator models it: per action, a bucket of `rate`
/// tokens refilled at `rate` per second; an empty bucket answers RequestLimitExceeded.
struct Bucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[tokio::test]
async fn the_rate_limiter_keeps_every_second_under_the_documented_limit() {
    let bucket = std::sync::Mutex::new(Bucket {
        rate: 20.0,
        tokens: 20.0,
        last: Instant::now(),
    });
    let fake = Fake::start(APIGATEWAY, move |_| {
        if bucket.lock().unwrap().take() {
            Reply::Ok(json!({ "Result": true }))
        } else {
            Reply::Error("RequestLimitExceeded", "over the limit")
        }
    })
    .await;
    // No retries: a single RequestLimitExceeded fails the test.
    let client = fake.client(APIGATEWAY, 0);
    let calls = (0..30).map(|i| {
        let client = Arc::clone(&client);
        async move {
            client
                .call(
                    "ap-guangzhou",
                    "DisableApiKey",
                    &json!({ "AccessKeyId": format!("AKID{i}") }),
                    Retry::Write,
                )
                .await
        }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let times: Vec<Instant> = fake.seen().iter().map(|s| s.at).collect();
    assert_eq!(times.len(), 30);
    // Count the requests in the one-second window starting at each request.
    for start in &times {
        let in_window = times
            .iter()
            .filter(|t| **t >= *start && t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(in_window <= 20, "{in_window} requests within one second");
    }
}

#[tokio::test]
async fn https_to_an_emulator_works_when_its_certificate_is_trusted() {
    let (fake, cert_pem) = Fake::start_tls(CVM, |_| Reply::Ok(json!({ "TotalCount": 0 }))).await;
    let endpoint = format!("https://{}", fake.addr);
    let trusted = ClientOptions {
        endpoint: Some(endpoint.clone()),
        extra_root_ca_pem: Some(cert_pem),
        ..fake.options(0)
    };
    let (_, request_id) = client_for(CVM, trusted, creds(None))
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
        .await
        .unwrap();
    assert_eq!(request_id, "req-1");

    let untrusted = ClientOptions {
        endpoint: Some(endpoint),
        ..fake.options(0)
    };
    let err = client_for(CVM, untrusted, creds(None))
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport, "{err}");
    assert_eq!(
        fake.seen().len(),
        1,
        "an untrusted certificate stops the request before it is sent"
    );
}

#[test]
fn a_malformed_extra_root_certificate_is_reported() {
    let opts = ClientOptions {
        extra_root_ca_pem: Some(b"not a pem".to_vec()),
        ..ClientOptions::default()
    };
    let err = TencentClient::new(CVM, creds(None), opts).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
}

#[tokio::test]
async fn an_oversized_answer_is_refused_without_reading_it_all() {
    let fake = Fake::start(CVM, |_| Reply::Raw(200, "{".repeat(9 * 1024 * 1024))).await;
    let err = fake
        .client(CVM, 0)
        .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("MiB"), "{}", err.message);
    assert!(err.message.len() < 300);
}

mod language_throttling_and_connect_to {
    use super::*;
    use keyward::providers::http::ConnectTo;
    use keyward::providers::tencent::client::Language;

    #[tokio::test]
    async fn every_request_says_the_configured_language() {
        let fake = Fake::start(CVM, |_| Reply::Ok(json!({}))).await;
        fake.client(CVM, 0)
            .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
            .await
            .unwrap();
        let opts = ClientOptions {
            language: Language::ZhCn,
            ..fake.options(0)
        };
        // Signed as before: the language header is not part of the signature.
        client_for(CVM, opts, creds(None))
            .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
            .await
            .unwrap();
        let languages: Vec<String> = fake.seen().into_iter().map(|s| s.language).collect();
        assert_eq!(languages, ["en-US", "zh-CN"]);
    }

    #[tokio::test]
    async fn throttled_writes_are_retried_on_their_own_budget() {
        let fake = Fake::start(
            APIGATEWAY,
            failing_then_ok(vec![
                || Reply::Error("RequestLimitExceeded.UinLimitExceeded", "主账号限频"),
                || Reply::Error("RequestLimitExceeded.IPLimitExceeded", "IP限频"),
                || {
                    Reply::Error(
                        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
                        "主账号超过频率限制",
                    )
                },
                || Reply::Error("RequestLimitExceeded", "slow down"),
            ]),
        )
        .await;
        // No retries for other errors: the four refusals use the throttling budget.
        let (_, request_id) = fake
            .client(APIGATEWAY, 0)
            .call(
                "ap-guangzhou",
                "DeleteApiKey",
                &json!({ "AccessKeyId": "AKID1" }),
                Retry::Write,
            )
            .await
            .unwrap();
        assert_eq!(request_id, "req-5");
    }

    #[tokio::test]
    async fn an_exhausted_throttling_budget_says_which_limit_and_what_to_do() {
        let fake = Fake::start(CVM, |_| Reply::Error("RequestLimitExceeded.IPLimitExceeded", "IP限频")).await;
        let opts = ClientOptions {
            throttle_retries: 2,
            ..fake.options(5)
        };
        let err = client_for(CVM, opts, creds(None))
            .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
            .await
            .unwrap_err();
        assert_eq!(fake.seen().len(), 3, "max_retries does not apply to throttling");
        assert_eq!(
            (err.kind, err.code.as_str()),
            (ErrorKind::RateLimited, "RequestLimitExceeded.IPLimitExceeded")
        );
        assert!(err.message.starts_with("DescribeKeyPairs: IP限频"), "{}", err.message);
        assert!(
            err.message.contains("IP address") && err.message.contains("3 attempts"),
            "{}",
            err.message
        );
        assert_eq!(err.request_id.as_deref(), Some("req-3"));
    }

    #[tokio::test]
    async fn connect_to_reaches_a_region_host_with_its_real_host_signed() {
        let host = "cvm.ap-guangzhou.tencentcloudapi.com";
        let (fake, pem) = Fake::start_tls_for(CVM, &[host], |_| Reply::Ok(json!({ "TotalCount": 0 }))).await;
        let opts = ClientOptions {
            endpoint: Some(format!("https://{host}")),
            extra_root_ca_pem: Some(pem),
            connect_to: Some(ConnectTo {
                host: "127.0.0.1".into(),
                port: fake.addr.port(),
            }),
            ..fake.options(0)
        };
        let client = client_for(CVM, opts, creds(None));
        assert_eq!(client.host(), host);
        client
            .call("ap-guangzhou", "DescribeKeyPairs", &json!({}), Retry::Read)
            .await
            .unwrap();
        // The fake answers from its handler only when the signature over this Host verifies.
        assert_eq!(fake.seen()[0].host, host);
    }
}
