//! HTTP plumbing every provider client shares: the rustls crypto provider, building a
//! `reqwest::Client` with an optional extra trusted root and an optional `connect_to`
//! address, sharing one client (connection pool) between accounts, endpoint rules,
//! mapping transport failures to `ProviderError`, the retry rule for reads and writes,
//! and the bounded excerpt of a body that error messages quote.

use super::{CONNECT_FAILED, ErrorKind, ProviderError};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

/// reqwest and axum-server are built without a default rustls provider, so a process-wide
/// crypto provider must be installed before the first client or TLS server is built.
/// Installing twice is harmless: the second call returns the already-installed provider
/// as an error, which we ignore.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `[settings] connect_to` (like curl's `--connect-to`): every provider connection goes to
/// this address, while the URL, the Host header, the signature and the TLS server name
/// keep the real host. For a test host or an emulator that answers for the real names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectTo {
    /// An IP address (IPv6 without brackets) or a name resolved at connect time.
    pub host: String,
    pub port: u16,
}

impl ConnectTo {
    /// `HOST:PORT`, with an IPv6 address in brackets (`[::1]:9400`). The error says what
    /// is wrong in one sentence.
    pub fn parse(text: &str) -> Result<ConnectTo, String> {
        let shape = "write it as HOST:PORT, like 127.0.0.1:9400, emulator.test:443 or [::1]:9400";
        let Some((host, port)) = text.rsplit_once(':') else {
            return Err(format!("connect_to \"{text}\" has no port; {shape}"));
        };
        let host = match host.strip_prefix('[') {
            Some(inner) => inner
                .strip_suffix(']')
                .filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
                .ok_or_else(|| format!("connect_to \"{text}\" has a malformed [IPv6] address; {shape}"))?,
            None if host.contains(':') => {
                return Err(format!(
                    "connect_to \"{text}\" looks like an IPv6 address without brackets; {shape}"
                ));
            }
            None => host,
        };
        let name_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c));
        if !name_ok {
            return Err(format!("connect_to \"{text}\" has no usable host; {shape}"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("connect_to \"{text}\" has no port from 1 to 65535; {shape}"))?;
        Ok(ConnectTo {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for ConnectTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Answers every name with the `connect_to` address. The port is part of the answer:
/// hyper-util keeps a non-zero resolved port when the URL names none (an explicit port in
/// the URL still wins, and a URL whose host is an IP literal is never resolved).
struct ConnectToResolver(ConnectTo);

impl Resolve for ConnectToResolver {
    fn resolve(&self, _name: Name) -> Resolving {
        let target = self.0.clone();
        Box::pin(async move {
            if let Ok(ip) = target.host.parse::<IpAddr>() {
                let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(ip, target.port)));
                return Ok(addrs);
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
                .await
                .map_err(|e| format!("connect_to {target}: cannot resolve {}: {e}", target.host))?
                .collect();
            if found.is_empty() {
                return Err(format!("connect_to {target}: {} resolves to no address", target.host).into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// What makes two HTTP clients interchangeable: accounts with equal settings share one
/// `reqwest::Client` and so one connection pool (see [`HttpPool`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct HttpSettings {
    /// Per attempt, from connecting until the whole body is read.
    pub timeout: Duration,
    /// A PEM certificate to trust in addition to the system roots (the emulator's).
    pub extra_root_ca_pem: Option<Vec<u8>>,
    pub connect_to: Option<ConnectTo>,
}

/// One `reqwest::Client` per distinct [`HttpSettings`], handed out as clones (a clone
/// shares the pool). Many accounts with the same settings then open one pool, not one per
/// account and service. Rate limiters and guards stay with the API clients: the pool is
/// only connections.
pub struct HttpPool {
    build: fn(&HttpSettings) -> Result<reqwest::Client, ProviderError>,
    clients: Mutex<HashMap<HttpSettings, SharedHttp>>,
}

impl HttpPool {
    /// `build` makes the client for settings not seen yet (each API's own policy:
    /// redirects, timeouts).
    pub fn new(build: fn(&HttpSettings) -> Result<reqwest::Client, ProviderError>) -> Self {
        HttpPool {
            build,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn client(&self, settings: &HttpSettings) -> Result<SharedHttp, ProviderError> {
        // A panic elsewhere while holding the lock leaves the map intact: keep using it.
        let mut clients = self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(settings) {
            return Ok(client.clone());
        }
        let client = SharedHttp::new((self.build)(settings)?);
        clients.insert(settings.clone(), client.clone());
        Ok(client)
    }

    /// How many distinct clients (pools) exist.
    pub fn len(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A pooled `reqwest::Client` and the first-contact gate of each host it talks to.
///
/// Whether a host speaks HTTP/2 is learnt from the first TLS handshake (ALPN), so a burst
/// of concurrent calls to a host no connection exists for yet opens one connection (and one
/// handshake) per call: 2,000 sources listing at once opened 2,000. The gate lets the first
/// call to a host go alone; the others wait until it has its answer, then share its HTTP/2
/// connection (or, with an HTTP/1.1 server, open their own as before).
#[derive(Clone)]
pub struct SharedHttp {
    pub client: reqwest::Client,
    gates: Arc<Mutex<HashMap<String, Arc<Gate>>>>,
}

#[derive(Default)]
struct Gate {
    open: std::sync::atomic::AtomicBool,
    first: Arc<tokio::sync::Mutex<()>>,
}

/// Held by the first call to a host until its answer (or failure) is in; dropping it opens
/// the gate for every later call.
pub struct FirstContact {
    gate: Arc<Gate>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for FirstContact {
    fn drop(&mut self) {
        self.gate.open.store(true, std::sync::atomic::Ordering::Release);
    }
}

impl SharedHttp {
    pub fn new(client: reqwest::Client) -> Self {
        SharedHttp {
            client,
            gates: Arc::default(),
        }
    }

    /// Wait for this host's first contact to finish; `Some` when the caller is the first
    /// contact (keep it until the answer is read), `None` when the host is known.
    pub async fn first_contact(&self, host: &str) -> Option<FirstContact> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(gates.entry(host.to_string()).or_default())
        };
        if gate.open.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let turn = Arc::clone(&gate.first).lock_owned().await;
        if gate.open.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        Some(FirstContact { gate, _turn: turn })
    }
}

/// What every keyward client shares: the crypto provider installed, keyward's User-Agent,
/// optionally one more trusted root certificate (PEM) on top of the platform roots — used
/// for the emulator's self-signed CA — and optionally a [`ConnectTo`] address. Callers add
/// their timeouts and redirect policy.
pub fn client_builder(
    extra_root_ca_pem: Option<&[u8]>,
    connect_to: Option<&ConnectTo>,
) -> Result<reqwest::ClientBuilder, ProviderError> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder().user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")));
    if let Some(target) = connect_to {
        builder = builder.dns_resolver(ConnectToResolver(target.clone()));
    }
    if let Some(pem) = extra_root_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            ProviderError::invalid(format!(
                "the extra root CA certificate is not valid PEM: {}",
                error_chain(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(ProviderError::invalid(
                "the extra root CA certificate holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            ));
        }
        builder = builder.tls_certs_merge(certs);
    }
    Ok(builder)
}

/// A [`client_builder`] client with a whole-request timeout.
pub fn build_client(
    timeout: Duration,
    extra_root_ca_pem: Option<&[u8]>,
    connect_to: Option<&ConnectTo>,
) -> Result<reqwest::Client, ProviderError> {
    client_builder(extra_root_ca_pem, connect_to)?
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .map_err(|e| ProviderError::invalid(format!("cannot build the HTTP client: {e}")))
}

/// Parse a configured endpoint: [`parse_with_transport_rule`], and no query or fragment,
/// since an endpoint names only scheme, host and path.
pub fn validate_endpoint(endpoint: &str) -> Result<Url, String> {
    let url = parse_with_transport_rule(endpoint)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{endpoint}` must not carry a query or fragment; give only scheme, host and path"
        ));
    }
    Ok(url)
}

/// Parse an endpoint URL with a host and apply keyward's transport rule: `https://`
/// anywhere, plain `http://` only to a loopback host (the emulator), because credentials
/// and key metadata must never cross a network unencrypted. The error text says how to fix it.
pub fn parse_with_transport_rule(endpoint: &str) -> Result<Url, String> {
    let url = Url::parse(endpoint)
        .map_err(|e| format!("`{endpoint}` is not a valid URL ({e}); write it like https://api.example.com"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback_host(&url) {
                return Err(format!(
                    "`{endpoint}` uses plain http to a non-loopback host; use https://, \
                     (plain http is allowed only for 127.0.0.0/8, ::1 and localhost)"
                ));
            }
        }
        other => {
            return Err(format!(
                "`{endpoint}` has scheme `{other}`; use https:// (or http:// to a loopback host)"
            ));
        }
    }
    if url.host().is_none() {
        return Err(format!(
            "`{endpoint}` has no host; write it like https://api.example.com"
        ));
    }
    Ok(url)
}

fn is_loopback_host(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 literals come back bracketed: "[::1]".
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// The most of a response body keyward reads. The largest documented answer (100 key
/// pairs with their public keys) is a few hundred KiB; anything past this is not the API,
/// and reading it whole could exhaust memory.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Why a body could not be read in full.
#[derive(Debug)]
pub enum BodyError {
    /// The body is (or announces itself as) longer than the cap; reading stopped there.
    TooLarge { limit: usize },
    /// The connection failed mid-body.
    Transport(reqwest::Error),
}

impl BodyError {
    /// The Protocol error for an oversized answer, naming what was asked.
    pub fn too_large(what: &str, limit: usize) -> ProviderError {
        ProviderError::new(
            ErrorKind::Protocol,
            "Protocol",
            format!(
                "{what}: the answer exceeds {} MiB, which no documented answer does: check the endpoint",
                limit / (1024 * 1024)
            ),
        )
    }
}

/// Read a response body chunk by chunk, giving up as soon as it passes `max` bytes (or
/// its Content-Length says it will), so a misbehaving server cannot make keyward buffer
/// an unbounded answer.
pub async fn read_body_capped(response: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > u64::try_from(max).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge { limit: max });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge { limit: max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Map a reqwest error (no HTTP status) to a `ProviderError`. A connection that could not
/// be opened gets code `CONNECT_FAILED`, so `certainly_not_applied` (and with it
/// [`Retry::Write`]) knows the request never reached the server — the only transport case
/// where a write may be repeated.
pub fn transport_failure(e: &reqwest::Error, what: &str) -> ProviderError {
    if e.is_timeout() {
        ProviderError::new(ErrorKind::Timeout, "Timeout", format!("{what}: no answer in time"))
    } else if e.is_connect() {
        ProviderError::new(
            ErrorKind::Transport,
            CONNECT_FAILED,
            format!("{what}: cannot connect ({})", error_chain(e)),
        )
    } else {
        ProviderError::new(ErrorKind::Transport, "Transport", format!("{what}: {}", error_chain(e)))
    }
}

/// How a call may be repeated after a failure; the same rule for every provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads (Describe*, GET): repeating has no effect, so rate limits, 5xx, timeouts and
    /// dropped connections are all retried.
    Read,
    /// Anything that changes state. Only failures where the request certainly did not take
    /// effect are retried: a rate limit (refused before any business logic) and a
    /// connection that could not even be opened. A timeout or a 5xx may come after the
    /// service applied the change: resending a delete would then report a false not-found
    /// for a key that was in fact deleted, and resending a rotation would rotate twice, so
    /// the secret shown to the operator would already be stale.
    Write,
}

impl Retry {
    pub(crate) fn allows(self, err: &ProviderError) -> bool {
        match self {
            Retry::Read => matches!(
                err.kind,
                ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Transport
            ),
            // Auth and Invalid are "certainly not applied" too, but repeating them cannot help.
            Retry::Write => err.certainly_not_applied() && !matches!(err.kind, ErrorKind::Auth | ErrorKind::Invalid),
        }
    }
}

/// How much of an unexpected body an error message quotes.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// The start of a server's text for an error message: at most `EXCERPT_CHARS` characters,
/// with control characters dropped so a hostile answer cannot drive the terminal, and `…`
/// when there was more.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The message of an error and all its sources: reqwest's top-level message is often just
/// "error sending request"; the cause says why.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first call to a host goes alone; the next waits until it is done and then goes
    /// as one of many (the gate is open); another host has its own gate.
    #[tokio::test]
    async fn the_first_contact_to_a_host_goes_alone() {
        use futures::FutureExt;
        let http = SharedHttp::new(build_client(Duration::from_secs(1), None, None).unwrap());
        let first = http.first_contact("cvm.ap-guangzhou.tencentcloudapi.com").await;
        assert!(first.is_some());
        let mut waiting = Box::pin(http.first_contact("cvm.ap-guangzhou.tencentcloudapi.com"));
        assert!(
            (&mut waiting).now_or_never().is_none(),
            "a second call waits for the first"
        );
        assert!(
            http.first_contact("cvm.ap-shanghai.tencentcloudapi.com")
                .await
                .is_some(),
            "another host is not held up"
        );
        drop(first);
        assert!(waiting.await.is_none(), "after the first, calls go without a gate");
        assert!(
            http.first_contact("cvm.ap-guangzhou.tencentcloudapi.com")
                .await
                .is_none()
        );
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(validate_endpoint("https://api-cloud.oceanbase.com").is_ok());
        assert!(validate_endpoint("http://127.0.0.1:8080").is_ok());
        assert!(validate_endpoint("http://127.9.9.9").is_ok());
        assert!(validate_endpoint("http://[::1]:9000/ob").is_ok());
        assert!(validate_endpoint("http://localhost:9000").is_ok());
        let err = validate_endpoint("http://10.0.0.5").unwrap_err();
        assert!(err.contains("non-loopback"), "{err}");
        assert!(validate_endpoint("ftp://127.0.0.1").is_err());
        assert!(validate_endpoint("not a url").is_err());
        assert!(validate_endpoint("http://localhost.evil.com").is_err());
    }

    #[test]
    fn excerpts_drop_control_characters_and_mark_a_cut() {
        assert_eq!(excerpt(b"\x1b[2Jbad\r\n gateway"), "[2Jbad gateway");
        assert_eq!(excerpt(b"short"), "short");
        let long = "y".repeat(EXCERPT_CHARS + 1);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'), "{cut}");
        assert_eq!(
            excerpt("y".repeat(EXCERPT_CHARS).as_bytes()).chars().count(),
            EXCERPT_CHARS
        );
    }
}

#[cfg(test)]
mod connect_to_tests {
    use super::*;
    use axum::Router;
    use axum::http::HeaderMap;
    use axum::routing::get;

    /// A server on 127.0.0.1 that answers with the host it was asked for: the Host header
    /// (HTTP/1.1) or the `:authority` (HTTP/2, which TLS negotiates; it has no Host header).
    async fn echo_host(tls_name: Option<&str>) -> (SocketAddr, Option<Vec<u8>>) {
        let app = Router::new().route(
            "/",
            get(|headers: HeaderMap, uri: axum::http::Uri| async move {
                let header = headers.get("host").and_then(|h| h.to_str().ok()).map(str::to_string);
                header
                    .or_else(|| uri.authority().map(|a| a.to_string()))
                    .unwrap_or_default()
            }),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let Some(name) = tls_name else {
            tokio::spawn(axum_server::from_tcp(listener).serve(app.into_make_service()));
            return (addr, None);
        };
        install_crypto_provider();
        let cert = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        let pem = cert.cert.pem().into_bytes();
        let config =
            axum_server::tls_rustls::RustlsConfig::from_pem(pem.clone(), cert.signing_key.serialize_pem().into_bytes())
                .await
                .unwrap();
        tokio::spawn(axum_server::from_tcp_rustls(listener, config).serve(app.into_make_service()));
        (addr, Some(pem))
    }

    fn target(host: &str, port: u16) -> ConnectTo {
        ConnectTo {
            host: host.into(),
            port,
        }
    }

    #[tokio::test]
    async fn tls_to_a_real_looking_host_arrives_at_the_connect_to_address_with_its_host_and_name() {
        let host = "cvm.ap-guangzhou.tencentcloudapi.com";
        let (addr, pem) = echo_host(Some(host)).await;
        let to = target("127.0.0.1", addr.port());
        let client = build_client(Duration::from_secs(5), pem.as_deref(), Some(&to)).unwrap();
        // No port in the URL: the resolver's port is kept. The certificate names only the
        // real host, so this also shows the TLS name stayed the real host.
        let answer = client.get(format!("https://{host}/")).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.text().await.unwrap(), host);
    }

    #[tokio::test]
    async fn a_connect_to_name_is_resolved() {
        let (addr, _) = echo_host(None).await;
        let to = target("localhost", addr.port());
        let client = build_client(Duration::from_secs(5), None, Some(&to)).unwrap();
        let answer = client
            .get("http://apigateway.tencentcloudapi.com/")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.text().await.unwrap(), "apigateway.tencentcloudapi.com");
    }

    #[tokio::test]
    async fn an_unresolvable_connect_to_name_is_a_connect_failure() {
        let to = target("no-such-host.invalid", 443);
        let client = build_client(Duration::from_secs(5), None, Some(&to)).unwrap();
        let e = client.get("https://cvm.tencentcloudapi.com/").send().await.unwrap_err();
        assert!(e.is_connect(), "{e:?}");
        assert_eq!(transport_failure(&e, "DescribeKeyPairs").code, CONNECT_FAILED);
    }

    #[test]
    fn connect_to_parses_host_and_port() {
        assert_eq!(ConnectTo::parse("127.0.0.1:9400"), Ok(target("127.0.0.1", 9400)));
        assert_eq!(ConnectTo::parse("[::1]:443"), Ok(target("::1", 443)));
        assert_eq!(ConnectTo::parse("emu.test:1"), Ok(target("emu.test", 1)));
        assert_eq!(target("::1", 443).to_string(), "[::1]:443");
        for bad in [
            "emu.test",
            "emu.test:",
            ":1",
            "emu.test:0",
            "emu.test:65536",
            "::1:443",
            "[::1:443",
            "a/b:1",
        ] {
            let e = ConnectTo::parse(bad).unwrap_err();
            assert!(e.contains("HOST:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_pool_shares_one_client_per_settings() {
        let pool = HttpPool::new(|s| build_client(s.timeout, None, s.connect_to.as_ref()));
        let a = HttpSettings {
            timeout: Duration::from_secs(5),
            ..HttpSettings::default()
        };
        let b = HttpSettings {
            connect_to: Some(target("127.0.0.1", 9)),
            ..a.clone()
        };
        for _ in 0..50 {
            pool.client(&a).unwrap();
        }
        pool.client(&b).unwrap();
        assert_eq!(pool.len(), 2);
    }
}
