//! HTTPS for the emulator: a throwaway CA and a server certificate it signs, made fresh
//! at every start. Clients trust the CA PEM (a reqwest root certificate; for tccli,
//! certifi pointed at it, as its SDK ignores REQUESTS_CA_BUNDLE). A CA plus leaf rather than one self-signed leaf, because strict verifiers
//! (webpki, Python 3.13's X509_STRICT) reject a leaf used as its own trust anchor.

use super::model::TcService;
use super::seed::Seed;
use crate::providers::tencent::endpoint;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Names every certificate covers besides the Tencent hosts: loopback, and the MaaS host
/// so a client keeping `Host: api-cloud.oceanbase.com` (via a resolver override) verifies.
const FIXED_NAMES: &[&str] = &["api-cloud.oceanbase.com", "127.0.0.1", "::1", "localhost"];

/// Every host name the emulator answers for this seed: for each Tencent service, both
/// sites' nearest-access hosts and the region host of every documented region and of every
/// region a seed account has (`endpoint::all_hosts`, the one home of those names), then the
/// fixed names. Documented regions the seed lacks are covered too: the real service answers
/// a region an account does not use with its own region error, not a TLS failure. Each region
/// host is listed by name because a wildcard covers one label only: `*.tencentcloudapi.com`
/// would not cover `cvm.ap-guangzhou.tencentcloudapi.com`.
pub(crate) fn server_names(seed: &Seed) -> Vec<String> {
    let mut regions: Vec<&str> = endpoint::REGION_HOSTS
        .iter()
        .chain(endpoint::FINANCIAL_REGIONS)
        .copied()
        .collect();
    for account in seed.tencent_accounts() {
        for region in &account.regions {
            if !regions.contains(&region.as_str()) {
                regions.push(region);
            }
        }
    }
    let mut names: Vec<String> = TcService::ALL
        .into_iter()
        .flat_map(|service| {
            // A global service (CAM) documents only its two nearest-access hosts.
            let regions = if service.is_global() { &[][..] } else { &regions[..] };
            endpoint::all_hosts(service.name(), regions.iter().copied())
        })
        .collect();
    names.extend(FIXED_NAMES.iter().map(|n| n.to_string()));
    names
}

pub(crate) struct TlsMaterial {
    /// The CA certificate clients should trust.
    pub ca_pem: String,
    /// Server certificate then CA, DER.
    pub chain_der: Vec<Vec<u8>>,
    /// Server key, PKCS#8 DER.
    pub key_der: Vec<u8>,
}

/// A fresh CA and a server certificate for `names` that it signs.
pub(crate) fn generate(names: &[String]) -> Result<TlsMaterial, rcgen::Error> {
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

    let mut params = CertificateParams::new(names.to_vec())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_each_service_on_both_sites_and_every_seed_region_host() {
        let seed = Seed::generated(2, &["ap-guangzhou", "ap-shanghai-fsi", "ap-jakarta"], 0, 0, 0);
        let names = server_names(&seed);
        for name in [
            "cvm.tencentcloudapi.com",
            "cvm.intl.tencentcloudapi.com",
            "cvm.ap-guangzhou.tencentcloudapi.com",
            "cvm.ap-shanghai-fsi.tencentcloudapi.com",
            "apigateway.tencentcloudapi.com",
            "apigateway.intl.tencentcloudapi.com",
            "apigateway.ap-guangzhou.tencentcloudapi.com",
            "apigateway.ap-shanghai-fsi.tencentcloudapi.com",
            "cam.tencentcloudapi.com",
            "cam.intl.tencentcloudapi.com",
            "api-cloud.oceanbase.com",
            "127.0.0.1",
            "::1",
            "localhost",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
        }
        // A region without a documented host is reached through the nearest host; two
        // accounts with the same regions name each host once.
        assert!(!names.iter().any(|n| n.contains("ap-jakarta")), "{names:?}");
        // CAM is global: it documents no region hosts.
        assert!(!names.iter().any(|n| n.starts_with("cam.ap-")), "{names:?}");
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert!(!names.iter().any(|n| n.contains('*')), "no wildcards: {names:?}");
    }
}
