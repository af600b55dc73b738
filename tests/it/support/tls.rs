//! A TLS listener for in-process fake servers: a fresh self-signed certificate for
//! 127.0.0.1 and localhost, whose PEM the client under test is told to trust.

use axum_server::tls_rustls::RustlsConfig;
use std::net::TcpListener;

/// A non-blocking listener on 127.0.0.1 (any free port), its TLS configuration and the
/// certificate's PEM.
pub async fn self_signed_listener() -> (TcpListener, RustlsConfig, Vec<u8>) {
    self_signed_listener_for(&["127.0.0.1", "localhost"]).await
}

/// The same listener with a certificate for `names` (a real-looking API host reached
/// through `connect_to`).
pub async fn self_signed_listener_for(names: &[&str]) -> (TcpListener, RustlsConfig, Vec<u8>) {
    keyward::providers::http::install_crypto_provider();
    let cert = rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert_pem = cert.cert.pem().into_bytes();
    let config = RustlsConfig::from_pem(cert_pem.clone(), cert.signing_key.serialize_pem().into_bytes())
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    (listener, config, cert_pem)
}
