//! Shared helpers for the emulator integration tests: a minimal TC3-signing caller built
//! on the crate's signer, and a Digest caller built on `digest_auth`.

use keyward::emulator::{self, Emulator, EmulatorOptions, Seed};
use keyward::providers::tencent::sign::{self, SignInput};
use serde_json::Value;

pub fn client() -> reqwest::Client {
    keyward::providers::http::install_crypto_provider();
    reqwest::Client::builder().build().expect("client")
}

pub async fn start_demo() -> Emulator {
    emulator::start(EmulatorOptions::new(Seed::demo().expect("demo seed")))
        .await
        .expect("emulator starts")
}

/// The demo's production Tencent account.
pub fn prod_credentials() -> (String, String) {
    let seed = Seed::demo().unwrap();
    let a = &seed.tencent_accounts()[0];
    assert_eq!(a.name, "acme-prod");
    (a.secret_id.clone(), a.secret_key.clone())
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One API 3.0 call, with every part overridable so tests can break each one.
#[derive(Clone)]
pub struct TcCall {
    pub service: &'static str,
    pub version: &'static str,
    pub action: String,
    pub region: Option<String>,
    pub body: String,
    pub secret_id: String,
    pub secret_key: String,
    pub timestamp: i64,
    /// Host header to send and sign; None = the URL's `127.0.0.1:PORT`.
    pub host: Option<String>,
    /// Sign with this host instead of the one sent.
    pub sign_host: Option<String>,
    pub omit_header: Option<&'static str>,
    /// `X-TC-Language` to send; None sends none.
    pub language: Option<String>,
}

impl TcCall {
    pub fn cvm(action: &str, body: Value) -> Self {
        Self::new("cvm", "2017-03-12", action, body)
    }

    pub fn apigw(action: &str, body: Value) -> Self {
        Self::new("apigateway", "2018-08-08", action, body)
    }

    /// A CAM call: global, so no `X-TC-Region` (set one with `region` to send it anyway).
    pub fn cam(action: &str, body: Value) -> Self {
        let mut call = Self::new("cam", "2019-01-16", action, body);
        call.region = None;
        call
    }

    /// Signs with this SecretId and SecretKey (a CAM key of a sub-user, say).
    pub fn signed_with(mut self, secret_id: &str, secret_key: &str) -> Self {
        self.secret_id = secret_id.to_string();
        self.secret_key = secret_key.to_string();
        self
    }

    fn new(service: &'static str, version: &'static str, action: &str, body: Value) -> Self {
        let (secret_id, secret_key) = prod_credentials();
        TcCall {
            service,
            version,
            action: action.to_string(),
            region: Some("ap-guangzhou".to_string()),
            body: body.to_string(),
            secret_id,
            secret_key,
            timestamp: now(),
            host: None,
            sign_host: None,
            omit_header: None,
            language: None,
        }
    }

    /// Signs as this seed account instead of the demo's production one.
    pub fn signed_by(mut self, account: &keyward::emulator::SeedTencentAccount) -> Self {
        self.secret_id = account.secret_id.clone();
        self.secret_key = account.secret_key.clone();
        self
    }

    /// Sends and signs this Host (a real API host name) while connecting to the URL.
    pub fn via(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }

    pub fn region(mut self, r: &str) -> Self {
        self.region = Some(r.to_string());
        self
    }

    /// Sends the call and returns the `Response` object.
    pub async fn send(&self, http: &reqwest::Client, emu: &Emulator) -> Value {
        self.send_to(http, &emu.base_url).await
    }

    /// Like `send`, against any base URL (`http://127.0.0.1:PORT`).
    pub async fn send_to(&self, http: &reqwest::Client, base_url: &str) -> Value {
        let res = self.send_raw_to(http, base_url).await.expect("request");
        assert_eq!(res.status(), 200, "API 3.0 answers HTTP 200, errors included");
        let v: Value = res.json().await.expect("JSON body");
        let response = v["Response"].clone();
        let request_id = response["RequestId"].as_str().expect("every response has a RequestId");
        uuid::Uuid::parse_str(request_id).expect("RequestId is a UUID");
        response
    }

    pub async fn send_raw(&self, http: &reqwest::Client, emu: &Emulator) -> reqwest::Result<reqwest::Response> {
        self.send_raw_to(http, &emu.base_url).await
    }

    pub async fn send_raw_to(&self, http: &reqwest::Client, base_url: &str) -> reqwest::Result<reqwest::Response> {
        let url_host = base_url.split("://").nth(1).unwrap_or(base_url).to_string();
        let sent_host = self.host.clone().unwrap_or(url_host);
        let signed_host = self.sign_host.clone().unwrap_or_else(|| sent_host.clone());
        let sig = sign::sign(&SignInput {
            secret_id: &self.secret_id,
            secret_key: &self.secret_key,
            service: self.service,
            host: &signed_host,
            content_type: sign::CONTENT_TYPE,
            payload: self.body.as_bytes(),
            timestamp: self.timestamp,
        });
        let mut headers = vec![
            ("Authorization", sig.authorization),
            ("Content-Type", sign::CONTENT_TYPE.to_string()),
            ("X-TC-Action", self.action.clone()),
            ("X-TC-Version", self.version.to_string()),
            ("X-TC-Timestamp", self.timestamp.to_string()),
        ];
        if let Some(r) = &self.region {
            headers.push(("X-TC-Region", r.clone()));
        }
        if self.host.is_some() {
            headers.push(("Host", sent_host));
        }
        if let Some(l) = &self.language {
            headers.push(("X-TC-Language", l.clone()));
        }
        let mut req = http.post(format!("{base_url}/")).body(self.body.clone());
        for (k, v) in headers {
            if Some(k) != self.omit_header {
                req = req.header(k, v);
            }
        }
        req.send().await
    }
}

/// The error code of a response, or "" on success.
pub fn code(response: &Value) -> &str {
    response["Error"]["Code"].as_str().unwrap_or("")
}
