//! HTTPS for the emulator: a throwaway CA and a server certificate it signs, made fresh
//! at every start. Clients trust the CA PEM (reqwest root certificate, REQUESTS_CA_BUNDLE
//! for tccli). A CA plus leaf rather than one self-signed leaf, because strict verifiers
//! (webpki, Python 3.13's X509_STRICT) reject a leaf used as its own trust anchor.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Names the server certificate covers: loopback, plus the real API hostnames so a client
/// that keeps `Host: cvm.tencentcloudapi.com` (via /etc/hosts or a resolver override) verifies.
pub const SERVER_NAMES: &[&str] = &[
    "127.0.0.1",
    "::1",
    "localhost",
    "tencentcloudapi.com",
    "*.tencentcloudapi.com",
    "*.intl.tencentcloudapi.com",
    "api-cloud.oceanbase.com",
];

pub(crate) struct TlsMaterial {
    /// The CA certificate clients should trust.
    pub ca_pem: String,
    /// Server certificate then CA, DER.
    pub chain_der: Vec<Vec<u8>>,
    /// Server key, PKCS#8 DER.
    pub key_der: Vec<u8>,
}

pub(crate) fn generate() -> Result<TlsMaterial, rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "keyward emulator CA");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(SERVER_NAMES.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "keyward emulator");
    params.distinguished_name = name;
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;

    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        chain_der: vec![cert.der().to_vec(), ca_cert.der().to_vec()],
        key_der: key.serialize_der(),
    })
}
