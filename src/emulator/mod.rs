//! A strict, in-process emulator of the provider APIs keyward manages, in the spirit of
//! LocalStack/moto: Tencent Cloud API 3.0 (apigateway 2018-08-08 API keys, cvm 2017-03-12
//! key pairs and cam 2019-01-16 access keys, TC3-signed, rate limited) and OceanBase Cloud MaaS API keys
//! (HTTP Digest). It serves on 127.0.0.1, seeded from `assets/demo-seed.toml` or any
//! seed, with optional fault injection and HTTPS.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use keyward::emulator::{self, EmulatorOptions, Seed};
//! let emu = emulator::start(EmulatorOptions::new(Seed::demo()?)).await?;
//! println!("serving on {}", emu.base_url);
//! let ids = emu.state().key_pair_ids("acme-prod", "ap-guangzhou");
//! # let _ = ids;
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
pub mod cli;
mod digest;
pub(crate) mod fake;
mod faults;
mod model;
mod oceanbase;
mod ratelimit;
mod seed;
mod state;
pub mod tccli_shim;
pub mod tencent;
mod tls;

pub use model::{ApiKeyRecord, CamKeyView, CamUserRecord, Faults, KeyPairRecord, ObKeyRecord, TcService};
pub use seed::{
    ObGenerate, Seed, SeedApiKey, SeedCam, SeedCamKey, SeedCamUser, SeedError, SeedFaults, SeedKeyPair, SeedObAccount,
    SeedObKey, SeedTencentAccount, TencentGenerate,
};
pub use state::EmulatorState;

use axum::Router;
use axum::routing::{any, get};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot create the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot set up TLS: {0}")]
    Tls(std::io::Error),
    #[error("cannot write the certificate to {path}: {source}")]
    WriteCert { path: PathBuf, source: std::io::Error },
    #[error("invalid fault settings: {0}")]
    Faults(String),
    #[error("invalid emulator options: {0}")]
    Options(String),
}

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub seed: Seed,
    pub faults: Faults,
    /// Serve HTTPS with a fresh CA whose certificate is in `Emulator::ca_cert_pem`; the
    /// server certificate covers every host name the seed's accounts are reached by.
    pub tls: bool,
    /// With `tls`, also write the CA certificate PEM to this path (for other programs).
    pub tls_cert_out: Option<PathBuf>,
    /// Enforce the documented per-API request limits (default true).
    pub enforce_rate_limits: bool,
    /// Requests per second one Tencent account may make over all its actions, services and
    /// hosts, answered `RequestLimitExceeded.UinLimitExceeded` beyond. Tencent does not
    /// publish the number: None (the default) enforces none.
    pub uin_limit: Option<u32>,
    /// Requests per second the Tencent API takes from all callers together (the emulator's
    /// callers all come from loopback, so one IP), answered
    /// `RequestLimitExceeded.IPLimitExceeded` beyond. None (the default): no cap.
    pub ip_limit: Option<u32>,
}

/// An empty seed on a free loopback port; set `seed` (e.g. `Seed::demo()?`) to have data.
impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions::new(Seed::default())
    }
}

impl EmulatorOptions {
    /// HTTPS (the CA in memory) on a free loopback port: what the demo, the bench and most
    /// tests use, so keyward reaches it through the real host names (`connect_to`).
    pub fn https(seed: Seed) -> Self {
        EmulatorOptions {
            tls: true,
            ..EmulatorOptions::new(seed)
        }
    }

    /// Plain HTTP on a free loopback port, the seed's own faults, limits enforced.
    pub fn new(seed: Seed) -> Self {
        EmulatorOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: seed.faults.map(Faults::from).unwrap_or_default(),
            seed,
            tls: false,
            tls_cert_out: None,
            enforce_rate_limits: true,
            uin_limit: None,
            ip_limit: None,
        }
    }
}

/// A running emulator. Dropping it without `shutdown` leaves the server task running
/// until the runtime ends.
pub struct Emulator {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` or `https://...`.
    pub base_url: String,
    /// The CA certificate to trust when serving HTTPS.
    pub ca_cert_pem: Option<Vec<u8>>,
    state: EmulatorState,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    /// Handle to inspect and change the data, faults and counters.
    pub fn state(&self) -> EmulatorState {
        self.state.clone()
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(self) {
        self.handle.shutdown();
        let _ = self.task.await;
    }
}

fn router(state: EmulatorState) -> Router {
    Router::new()
        .route("/", any(tencent::handle))
        .route(
            oceanbase::PATH,
            get(oceanbase::list).post(oceanbase::create).delete(oceanbase::delete),
        )
        .with_state(state.clone())
        .layer(axum::middleware::map_response_with_state(state, server_date))
}

/// Every answer's `Date` is the server's clock, `--clock-offset-secs` included, as a real
/// server's shows its own: `keyward doctor` reads the clock skew from it. (hyper adds the
/// real time only to an answer that has no Date yet.)
async fn server_date(
    axum::extract::State(state): axum::extract::State<EmulatorState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    let date = state.now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response.headers_mut().insert(axum::http::header::DATE, value);
    }
    response
}

/// Starts serving in a background task and returns once the socket is bound.
pub async fn start(opts: EmulatorOptions) -> Result<Emulator, EmulatorError> {
    opts.faults.validate().map_err(EmulatorError::Faults)?;
    if opts.tls_cert_out.is_some() && !opts.tls {
        return Err(EmulatorError::Options(
            "tls_cert_out is where to also write the CA of an HTTPS emulator: set tls = true too".into(),
        ));
    }
    for (name, limit) in [("uin_limit", opts.uin_limit), ("ip_limit", opts.ip_limit)] {
        if limit == Some(0) {
            return Err(EmulatorError::Options(format!(
                "{name} 0 would refuse every request: give a rate above 0, or None for no cap"
            )));
        }
    }
    let bind_err = |source| EmulatorError::Bind {
        addr: opts.listen,
        source,
    };
    let listener = std::net::TcpListener::bind(opts.listen).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;

    let caps = ratelimit::Caps {
        uin: opts.uin_limit,
        ip: opts.ip_limit,
    };
    let state = EmulatorState::new(&opts.seed, opts.faults, opts.enforce_rate_limits, caps);
    state.set_server(addr.to_string());
    let make_service = faults::MakeFaultService::new(router(state.clone()), state.clone());
    let handle = axum_server::Handle::new();

    let (scheme, ca_cert_pem, task) = if opts.tls {
        crate::providers::http::install_crypto_provider();
        let material = tls::generate(&tls::server_names(&opts.seed))?;
        if let Some(path) = &opts.tls_cert_out {
            write_no_follow(path, material.ca_pem.as_bytes()).map_err(|source| EmulatorError::WriteCert {
                path: path.clone(),
                source,
            })?;
        }
        let config = axum_server::tls_rustls::RustlsConfig::from_der(material.chain_der, material.key_der)
            .await
            .map_err(EmulatorError::Tls)?;
        let server = axum_server::from_tcp_rustls(listener, config).handle(handle.clone());
        (
            "https",
            Some(material.ca_pem.into_bytes()),
            tokio::spawn(server.serve(make_service)),
        )
    } else {
        let server = axum_server::from_tcp(listener).handle(handle.clone());
        ("http", None, tokio::spawn(server.serve(make_service)))
    };
    Ok(Emulator {
        addr,
        base_url: format!("{scheme}://{}", reachable(addr)),
        ca_cert_pem,
        state,
        handle,
        task,
    })
}

/// Write a file without following a symbolic link at its path: the default certificate
/// path is in the shared temp dir, where anyone could plant a link to a file of the user's.
fn write_no_follow(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)?.write_all(bytes)
}

/// The address a client on this machine connects to: listening on every interface
/// (`0.0.0.0`, `[::]`) is reached through loopback, which is also the only plain-http
/// host a keyward config accepts.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip: std::net::IpAddr = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}
