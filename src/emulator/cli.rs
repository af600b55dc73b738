//! `keyward emulator`: serve the emulator in the foreground until Ctrl-C, after printing
//! the URL and the seed's (fake) demo credentials as shell exports.

use super::{EmulatorOptions, Faults, Seed, start};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9400")]
    pub listen: SocketAddr,
    /// Seed file (TOML, see assets/demo-seed.toml); default: the built-in demo seed.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Serve HTTPS with a fresh self-signed CA.
    #[arg(long)]
    pub tls: bool,
    /// Where to write the CA certificate PEM with --tls.
    #[arg(long, value_name = "FILE", default_value_os_t = std::env::temp_dir().join("keyward-emulator-ca.pem"))]
    pub cert_out: PathBuf,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, value_name = "N")]
    pub latency_ms: Option<u64>,
    /// Share of requests answered with HTTP 503 (0.0-1.0).
    #[arg(long, value_name = "F")]
    pub error_rate: Option<f64>,
    /// Share of connections closed without a response (0.0-1.0).
    #[arg(long, value_name = "F")]
    pub drop_rate: Option<f64>,
    /// Share of requests refused with RequestLimitExceeded / HTTP 429 (0.0-1.0).
    #[arg(long, value_name = "F")]
    pub force_rate_limit: Option<f64>,
    /// Do not enforce the documented per-API request limits (nor --uin-limit, --ip-limit).
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Cap one Tencent account at N requests/s over all its actions, services and hosts,
    /// answering RequestLimitExceeded.UinLimitExceeded beyond (Tencent publishes no number).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub uin_limit: Option<u32>,
    /// Cap all Tencent requests together at N/s, answering
    /// RequestLimitExceeded.IPLimitExceeded beyond.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub ip_limit: Option<u32>,
    /// Run the server's clock this many seconds ahead (negative: behind), e.g. 600 to see
    /// how clients report AuthFailure.SignatureExpire.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub clock_offset_secs: Option<i64>,
    /// Make STS AssumeRole's temporary credentials live N seconds whatever DurationSeconds
    /// asks (overrides the seed's token_ttl_secs), to watch keyward refresh them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub token_ttl_secs: Option<u64>,
}

impl EmulatorArgs {
    /// The seed's faults with every flag given on the command line taking precedence.
    fn faults(&self, seed: &Seed) -> Faults {
        let base = seed.faults.map(Faults::from).unwrap_or_default();
        Faults {
            latency: self.latency_ms.map(Duration::from_millis).unwrap_or(base.latency),
            error_rate: self.error_rate.unwrap_or(base.error_rate),
            drop_rate: self.drop_rate.unwrap_or(base.drop_rate),
            force_rate_limit: self.force_rate_limit.unwrap_or(base.force_rate_limit),
        }
    }
}

/// Shell-safe env var stem for an account name: `acme-prod` -> `ACME_PROD`.
fn env_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What `--tls` wrote: the CA certificate, and the tccli shim's directory or why it could
/// not be written.
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub tccli_shim: Result<&'a Path, &'a str>,
}

/// The banner: URL, how to trust the certificate, and the demo credentials.
pub fn banner(seed: &Seed, base_url: &str, tls: Option<&TlsFiles<'_>>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "keyward emulator listening on {base_url}");
    let _ = writeln!(out, "  Tencent Cloud API 3.0 (apigateway, cvm, cam): POST {base_url}/");
    let _ = writeln!(out, "  OceanBase MaaS API keys: {base_url}/api/v2/maas/apikeys");
    if let Some(files) = tls {
        let host = base_url.split_once("://").map_or(base_url, |(_, host)| host);
        let cert = files.cert.display();
        let _ = writeln!(out, "  CA certificate written to {cert}");
        // The certificate names the real hosts (every region host of the seed's regions), so
        // keyward keeps its real endpoints, and the rate buckets per access region, and only
        // the connection goes here.
        let _ = writeln!(
            out,
            "  keyward config: reach the real host names (cvm.ap-guangzhou.tencentcloudapi.com, ...), which this \
             certificate covers, through the emulator with\n    [settings]\n    connect_to = \"{host}\"\n    \
             ca_cert = \"{cert}\""
        );
        // tccli's SDK verifies against certifi's bundle and ignores the usual CA variables;
        // the shim is what scripts/tccli-smoke.sh runs tccli through.
        match files.tccli_shim {
            Ok(shim) => {
                let region = seed
                    .tencent_accounts()
                    .first()
                    .and_then(|a| a.regions.first())
                    .map_or("ap-guangzhou", String::as_str);
                let _ = writeln!(
                    out,
                    "  tccli (its SDK trusts only certifi's CA bundle): {shim}/sitecustomize.py points certifi at this \
                     CA; with the demo credentials below exported, run\n    \
                     PYTHONPATH={shim} {var}={cert} tccli cvm DescribeKeyPairs --region {region} --endpoint {host}",
                    shim = shim.display(),
                    var = super::tccli_shim::CA_VAR,
                );
            }
            Err(why) => {
                let _ = writeln!(out, "  tccli: {why}");
            }
        }
    }
    let _ = writeln!(out, "\n# Demo credentials (fake, valid only against this emulator):");
    let _ = writeln!(out, "export KEYWARD_EMULATOR_URL={base_url}");
    for (i, a) in seed.tencent_accounts().iter().enumerate() {
        let stem = env_stem(&a.name);
        let _ = writeln!(
            out,
            "# Tencent account \"{}\", regions {}",
            a.name,
            a.regions.join(", ")
        );
        if i == 0 {
            let _ = writeln!(out, "export TENCENTCLOUD_SECRET_ID={}", a.secret_id);
            let _ = writeln!(out, "export TENCENTCLOUD_SECRET_KEY={}", a.secret_key);
        }
        let _ = writeln!(out, "export {stem}_SECRET_ID={}", a.secret_id);
        let _ = writeln!(out, "export {stem}_SECRET_KEY={}", a.secret_key);
    }
    for (i, a) in seed.oceanbase_accounts().iter().enumerate() {
        let stem = env_stem(&a.name);
        let _ = writeln!(
            out,
            "# OceanBase account \"{}\", org {}, projects {}",
            a.name,
            a.org_id,
            a.project_ids.join(", ")
        );
        if i == 0 {
            let _ = writeln!(out, "export OCEANBASE_ACCESS_KEY_ID={}", a.access_key_id);
            let _ = writeln!(out, "export OCEANBASE_ACCESS_KEY_SECRET={}", a.access_key_secret);
        }
        let _ = writeln!(out, "export {stem}_ACCESS_KEY_ID={}", a.access_key_id);
        let _ = writeln!(out, "export {stem}_ACCESS_KEY_SECRET={}", a.access_key_secret);
    }
    out
}

async fn serve(args: EmulatorArgs) -> Result<(), String> {
    let seed = match &args.seed {
        Some(path) => Seed::from_file(path),
        None => Seed::demo(),
    }
    .map_err(|e| e.to_string())?;
    let seed = match args.token_ttl_secs {
        Some(secs) => seed.with_token_ttl(secs),
        None => seed,
    };
    let faults = args.faults(&seed);
    let opts = EmulatorOptions {
        listen: args.listen,
        faults,
        tls: args.tls,
        tls_cert_out: args.tls.then(|| args.cert_out.clone()),
        enforce_rate_limits: !args.no_rate_limits,
        uin_limit: args.uin_limit,
        ip_limit: args.ip_limit,
        seed: seed.clone(),
    };
    let emu = start(opts).await.map_err(|e| match &e {
        super::EmulatorError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => format!(
            "{e}\n  fix: another program (another emulator?) uses that port: pick a free one with \
             --listen 127.0.0.1:PORT, or --listen 127.0.0.1:0 for any"
        ),
        _ => e.to_string(),
    })?;
    if args.listen.ip().is_unspecified() {
        eprintln!(
            "keyward emulator: warning: listening on every interface ({}): anyone who can reach this machine \
             can use the demo credentials; configs on this machine use {}",
            args.listen, emu.base_url
        );
    }
    if let Some(secs) = args.clock_offset_secs {
        let offset = chrono::TimeDelta::try_seconds(secs)
            .ok_or_else(|| format!("--clock-offset-secs {secs} is out of range"))?;
        emu.state().set_clock_offset(offset);
        println!("Server clock offset: {secs} s");
    }
    let tccli_shim = args.tls.then(|| super::tccli_shim::write(&args.cert_out));
    let tls = tccli_shim.as_ref().map(|shim| TlsFiles {
        cert: &args.cert_out,
        tccli_shim: shim.as_deref().map_err(String::as_str),
    });
    println!("{}", banner(&seed, &emu.base_url, tls.as_ref()));
    if let Some(pem) = &emu.ca_cert_pem {
        println!("{}", String::from_utf8_lossy(pem));
    }
    if faults != Faults::default() {
        println!("Fault injection: {faults}");
    }
    if let Some(n) = args.uin_limit {
        println!("Account cap: {n} requests/s per Tencent account, RequestLimitExceeded.UinLimitExceeded beyond");
    }
    if let Some(n) = args.ip_limit {
        println!("IP cap: {n} Tencent requests/s in all, RequestLimitExceeded.IPLimitExceeded beyond");
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    let state = emu.state();
    emu.shutdown().await;
    println!(
        "Stopped after {} requests ({} rate limited, {} of them by the account cap).",
        state.request_count(),
        state.rate_limited_count(),
        state.uin_limited_count()
    );
    Ok(())
}

/// Entry point for `keyward emulator`. Traffic is traced to stderr (RUST_LOG overrides
/// the default `keyward=info`), keeping stdout for the banner.
pub fn run(args: EmulatorArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("keyward=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    match crate::runtime::block_on(serve(args)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("keyward emulator: {e}");
            ExitCode::FAILURE
        }
        Err(code) => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_lists_every_account_as_exports() {
        let seed = Seed::demo().unwrap();
        let text = banner(&seed, "http://127.0.0.1:9400", None);
        assert!(text.contains("export ACME_PROD_SECRET_ID="));
        assert!(text.contains("export ACME_STAGING_SECRET_KEY="));
        assert!(text.contains("export OCEANBASE_ACCESS_KEY_ID="));
        assert!(text.contains("http://127.0.0.1:9400/api/v2/maas/apikeys"));
    }

    /// tccli's SDK ignores REQUESTS_CA_BUNDLE: the banner names no CA variable of
    /// requests', only what works (the shim scripts/tccli-smoke.sh uses, with the CA path
    /// in its variable and a region the seed has), and the keyward config lines.
    #[test]
    fn tls_banner_gives_working_trust_advice() {
        let seed = Seed::demo().unwrap();
        let cert = PathBuf::from("/tmp/kw/ca.pem");
        let shim = PathBuf::from("/tmp/kw/keyward-tccli-shim");
        let files = TlsFiles {
            cert: &cert,
            tccli_shim: Ok(&shim),
        };
        let text = banner(&seed, "https://127.0.0.1:9400", Some(&files));
        assert!(!text.contains("REQUESTS_CA_BUNDLE"), "{text}");
        assert!(
            text.contains(
                "PYTHONPATH=/tmp/kw/keyward-tccli-shim KEYWARD_TCCLI_CA=/tmp/kw/ca.pem tccli cvm DescribeKeyPairs \
                 --region ap-guangzhou --endpoint 127.0.0.1:9400"
            ),
            "{text}"
        );
        assert!(text.contains("ca_cert = \"/tmp/kw/ca.pem\""), "{text}");
        assert!(
            text.contains("[settings]\n    connect_to = \"127.0.0.1:9400\""),
            "{text}"
        );
        assert!(text.contains("# Tencent account \"acme-prod\""), "{text}");
    }

    #[test]
    fn a_shim_that_could_not_be_written_is_reported_instead_of_the_command() {
        let seed = Seed::demo().unwrap();
        let cert = PathBuf::from("/tmp/kw/ca.pem");
        let files = TlsFiles {
            cert: &cert,
            tccli_shim: Err("cannot write the tccli shim to /tmp/kw/keyward-tccli-shim: planted"),
        };
        let text = banner(&seed, "https://127.0.0.1:9400", Some(&files));
        assert!(text.contains("tccli: cannot write the tccli shim"), "{text}");
        assert!(!text.contains("PYTHONPATH"), "{text}");
    }

    #[test]
    fn faults_are_described_in_plain_words() {
        let faults = Faults {
            latency: Duration::from_millis(300),
            error_rate: 0.1,
            drop_rate: 0.025,
            force_rate_limit: 0.0,
        };
        assert_eq!(
            faults.to_string(),
            "300 ms added to every answer, 10% of requests answered HTTP 503, \
             2.5% of connections dropped without an answer"
        );
        assert_eq!(Faults::default().to_string(), "none");
    }

    #[test]
    fn every_interface_is_reached_through_loopback() {
        let url = |a: &str| crate::emulator::reachable(a.parse().unwrap()).to_string();
        assert_eq!(url("0.0.0.0:9400"), "127.0.0.1:9400");
        assert_eq!(url("[::]:9400"), "[::1]:9400");
        assert_eq!(url("127.0.0.1:9400"), "127.0.0.1:9400");
        assert_eq!(url("192.168.1.5:1"), "192.168.1.5:1");
    }

    #[test]
    fn flags_override_seed_faults() {
        let mut seed = Seed::demo().unwrap();
        seed.faults = Some(crate::emulator::SeedFaults {
            latency_ms: 5,
            error_rate: 0.1,
            drop_rate: 0.0,
            force_rate_limit: 0.0,
        });
        let args = EmulatorArgs {
            listen: "127.0.0.1:0".parse().unwrap(),
            seed: None,
            tls: false,
            cert_out: PathBuf::from("x"),
            latency_ms: None,
            error_rate: Some(0.5),
            drop_rate: None,
            force_rate_limit: None,
            no_rate_limits: false,
            uin_limit: None,
            ip_limit: None,
            clock_offset_secs: None,
            token_ttl_secs: None,
        };
        let f = args.faults(&seed);
        assert_eq!(f.latency, Duration::from_millis(5));
        assert_eq!(f.error_rate, 0.5);
    }
}
