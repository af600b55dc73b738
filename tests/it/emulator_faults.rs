//! Fault injection through the state handle, and HTTPS with the written certificate.

use crate::support::emulator::{TcCall, client, code, start_demo};
use keyward::emulator::{self, EmulatorOptions, Faults, Seed};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn dropped_connections_get_no_response() {
    let emu = start_demo().await;
    let http = client();
    emu.state().set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::none()
    });
    let err = TcCall::cvm("DescribeKeyPairs", json!({}))
        .send_raw(&http, &emu)
        .await
        .expect_err("the connection is closed without an answer");
    assert!(!err.is_status(), "{err}");
    let res = http.get(format!("{}/api/v2/maas/apikeys", emu.base_url)).send().await;
    assert!(res.is_err());
    assert_eq!(emu.state().request_count(), 2);
    emu.state().set_faults(Faults::none());
    let r = TcCall::cvm("DescribeKeyPairs", json!({})).send(&http, &emu).await;
    assert_eq!(code(&r), "");
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_errors_are_5xx_in_each_api_shape() {
    let emu = start_demo().await;
    let http = client();
    emu.state().set_faults(Faults {
        error_rate: 1.0,
        ..Faults::none()
    });
    let res = TcCall::cvm("DescribeKeyPairs", json!({}))
        .send_raw(&http, &emu)
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Response"]["Error"]["Code"], "InternalError");
    assert!(body["Response"]["RequestId"].is_string());
    let res = http
        .get(format!("{}/api/v2/maas/apikeys", emu.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false);
    emu.shutdown().await;
}

#[tokio::test]
async fn forced_rate_limiting_and_latency() {
    let emu = start_demo().await;
    let http = client();
    emu.state().set_faults(Faults {
        force_rate_limit: 1.0,
        latency: Duration::from_millis(5),
        ..Faults::none()
    });
    let r = TcCall::apigw("DescribeApiKeysStatus", json!({}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "RequestLimitExceeded");
    // Authentication still comes first: a bad signature is not reported as a rate limit.
    let mut bad = TcCall::apigw("DescribeApiKeysStatus", json!({}));
    bad.secret_key = "wrong".into();
    assert_eq!(code(&bad.send(&http, &emu).await), "AuthFailure.SignatureFailure");
    assert_eq!(emu.state().rate_limited_count(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_from_the_seed_apply_at_start() {
    let mut seed = Seed::demo().unwrap();
    seed.faults = Some(keyward::emulator::SeedFaults {
        error_rate: 1.0,
        ..Default::default()
    });
    let emu = emulator::start(EmulatorOptions::new(seed)).await.unwrap();
    let res = TcCall::cvm("DescribeKeyPairs", json!({}))
        .send_raw(&client(), &emu)
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_fault_shares_are_refused_at_start() {
    let mut opts = EmulatorOptions::new(Seed::demo().unwrap());
    opts.faults.error_rate = 2.0;
    let err = emulator::start(opts).await.err().expect("refused");
    assert!(err.to_string().contains("error rate"), "{err}");
}

#[tokio::test]
async fn https_with_the_written_ca_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("ca.pem");
    let mut opts = EmulatorOptions::new(Seed::demo().unwrap());
    opts.tls = true;
    opts.tls_cert_out = Some(cert_path.clone());
    let emu = emulator::start(opts).await.unwrap();
    assert!(emu.base_url.starts_with("https://127.0.0.1:"));
    let written = std::fs::read(&cert_path).unwrap();
    assert_eq!(Some(&written), emu.ca_cert_pem.as_ref());
    assert!(String::from_utf8_lossy(&written).contains("BEGIN CERTIFICATE"));

    keyward::providers::http::install_crypto_provider();
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&written).unwrap()])
        .build()
        .unwrap();
    let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}))
        .send(&trusting, &emu)
        .await;
    assert_eq!(code(&r), "");
    assert_eq!(r["KeyPairSet"].as_array().unwrap().len(), 1);

    // A client that does not trust the emulator's CA is refused.
    let other = emulator::start({
        let mut o = EmulatorOptions::new(Seed::demo().unwrap());
        o.tls = true;
        o
    })
    .await
    .unwrap();
    let untrusting = TcCall::cvm("DescribeKeyPairs", json!({}))
        .send_raw(&trusting, &other)
        .await;
    assert!(untrusting.is_err(), "a certificate from another CA must not verify");
    other.shutdown().await;
    emu.shutdown().await;
}

/// The in-flight gauge the crash drill waits on: a request held by latency counts until
/// it is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_count_as_in_flight_until_answered() {
    let emu = start_demo().await;
    let state = emu.state();
    state.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::none()
    });
    assert_eq!(state.in_flight(), 0);
    let (http, base) = (client(), emu.base_url.clone());
    let call = tokio::spawn(async move { TcCall::cvm("DescribeKeyPairs", json!({})).send_to(&http, &base).await });
    // Bounded polling, not a timing assertion: the request arrives within seconds.
    let mut seen = false;
    for _ in 0..500 {
        if state.in_flight() == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(seen, "the held request was never counted");
    call.await.unwrap();
    assert_eq!(state.in_flight(), 0, "answered");

    emu.shutdown().await;
}
