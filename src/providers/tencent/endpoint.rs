//! Which host a Tencent Cloud API 3.0 request goes to, and what that host says about
//! where the service counts it. The one home of Tencent host names: the client picks its
//! hosts here, and the emulator reads the access region of a request's Host here and
//! lists here the names its TLS certificate must cover.
//!
//! Facts (each product's "Request Structure" page: CVM tencentcloud.com/document/api/213/31573,
//! API Gateway tencentcloud.com/document/product/628/36597, and the China-site CVM list with
//! the financial regions, tencentcloud.com/zh/document/api/1021/34191):
//! - nearest access: `<service>.tencentcloudapi.com` on the China site and
//!   `<service>.intl.tencentcloudapi.com` on the international site; it resolves to the
//!   closest API server and "only supports non-financial regions";
//! - region access: `<service>.<region>.tencentcloudapi.com` on both sites (the
//!   international pages list the same region host names, without `intl`);
//! - financial regions (`ap-shanghai-fsi`, `ap-shenzhen-fsi`) are isolated from the rest
//!   and reachable only through their own region hosts, documented on the China site.
//!
//! The rate limit is counted per API + *access region* + sub-account (doc 1278/109059),
//! where the access region is the region of the API server the host resolves to, not the
//! `X-TC-Region` parameter: every request to a nearest-access host counts in one bucket,
//! every region host has its own.

use serde::Deserialize;
use std::fmt;

/// The root domain of every Tencent Cloud API 3.0 host.
pub const ROOT_DOMAIN: &str = "tencentcloudapi.com";

/// Which Tencent Cloud site an account belongs to (as tccli, the China site by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Site {
    #[default]
    Cn,
    Intl,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Site::Cn => "cn",
            Site::Intl => "intl",
        })
    }
}

/// How an account's regions are reached: each through its own region host (separate rate
/// buckets, the default) or all through the nearest-access host (one shared bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[default]
    Regional,
    Nearest,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Regional => "regional",
            Access::Nearest => "nearest",
        })
    }
}

/// Regions with a documented region host (`<service>.<region>.tencentcloudapi.com`), from
/// the CVM request-structure page (the API Gateway page lists the same hosts). A region not
/// listed here is reached through the nearest-access host, and keyward says so.
pub const REGION_HOSTS: &[&str] = &[
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-hongkong",
    "ap-singapore",
    "ap-bangkok",
    "ap-mumbai",
    "ap-seoul",
    "ap-tokyo",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "eu-frankfurt",
    "eu-moscow",
];

/// Financial regions: isolated, reachable only through their own region hosts, which only
/// the China site documents.
pub const FINANCIAL_REGIONS: &[&str] = &["ap-shanghai-fsi", "ap-shenzhen-fsi"];

pub fn is_financial(region: &str) -> bool {
    FINANCIAL_REGIONS.contains(&region)
}

/// The nearest-access host of a service on a site.
pub fn nearest_host(service: &str, site: Site) -> String {
    match site {
        Site::Cn => format!("{service}.{ROOT_DOMAIN}"),
        Site::Intl => format!("{service}.intl.{ROOT_DOMAIN}"),
    }
}

/// The region host of a service, if the site documents one for that region.
pub fn region_host(service: &str, site: Site, region: &str) -> Option<String> {
    let documented = REGION_HOSTS.contains(&region) || (site == Site::Cn && is_financial(region));
    documented.then(|| format!("{service}.{region}.{ROOT_DOMAIN}"))
}

/// The host chosen for one (service, region) of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostChoice {
    /// The host name, without scheme or port.
    pub host: String,
    /// Set when the account asked for region access but this region has no documented
    /// region host on its site, so the nearest-access host is used: said once to the operator.
    pub fallback_note: Option<String>,
}

/// The host for `service` in `region` of an account on `site` with `access`. Fails only for
/// a financial region the site cannot reach (nearest access does not serve financial
/// regions, and the international site documents no financial region hosts).
pub fn choose(service: &str, site: Site, access: Access, region: &str) -> Result<HostChoice, String> {
    if is_financial(region) {
        // Nearest access "only supports non-financial regions": a financial region needs its
        // own host whatever `access` says.
        return region_host(service, site, region)
            .map(|host| HostChoice {
                host,
                fallback_note: None,
            })
            .ok_or_else(|| {
                format!(
                    "{region} is a financial region, reachable only through its region host, which the \
                     {site} site does not document; use site = \"cn\" or set the {service} endpoint"
                )
            });
    }
    match access {
        Access::Nearest => Ok(HostChoice {
            host: nearest_host(service, site),
            fallback_note: None,
        }),
        Access::Regional => Ok(match region_host(service, site, region) {
            Some(host) => HostChoice {
                host,
                fallback_note: None,
            },
            None => {
                let host = nearest_host(service, site);
                HostChoice {
                    fallback_note: Some(format!(
                        "{region} has no documented {service} region host on the {site} site: using the \
                         nearest-access host {host}, whose rate limit all such regions share"
                    )),
                    host,
                }
            }
        }),
    }
}

/// Where the service counts a request: the access region its Host names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessRegion {
    /// A nearest-access host, or any host that names no region (an IP address, localhost):
    /// one bucket.
    Nearest,
    /// A region host: `<service>.<region>.tencentcloudapi.com`.
    Region(String),
}

/// The access region a `Host` header names (a port, if any, is ignored).
pub fn access_region(host: &str) -> AccessRegion {
    let name = host_without_port(host).to_ascii_lowercase();
    let Some(prefix) = name.strip_suffix(ROOT_DOMAIN).and_then(|p| p.strip_suffix('.')) else {
        return AccessRegion::Nearest;
    };
    // `<service>` (nearest, China site), `<service>.intl` (nearest, international site),
    // `<service>.<region>` (region host).
    match prefix.split_once('.') {
        Some((_, "intl")) | None => AccessRegion::Nearest,
        Some((_, region)) if !region.contains('.') => AccessRegion::Region(region.to_string()),
        Some(_) => AccessRegion::Nearest,
    }
}

/// The service a host names by its first label, if it is a Tencent API host.
pub fn service_of_host(host: &str) -> Option<String> {
    let name = host_without_port(host).to_ascii_lowercase();
    name.ends_with(&format!(".{ROOT_DOMAIN}"))
        .then(|| name.split('.').next().unwrap_or_default().to_string())
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        // An IPv6 literal: `[::1]:9400`.
        return host.split_once(']').map_or(host, |(h, _)| h).trim_start_matches('[');
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// Every host name a service answers for these regions on both sites: the nearest-access
/// hosts and each documented region host. The emulator's certificate covers these (a TLS
/// wildcard covers one label only, so each region host needs its own name).
pub fn all_hosts<'a>(service: &str, regions: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut hosts = vec![nearest_host(service, Site::Cn), nearest_host(service, Site::Intl)];
    for region in regions {
        if let Some(host) = region_host(service, Site::Cn, region)
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_have_their_nearest_hosts_and_share_region_hosts() {
        assert_eq!(nearest_host("cvm", Site::Cn), "cvm.tencentcloudapi.com");
        assert_eq!(nearest_host("cvm", Site::Intl), "cvm.intl.tencentcloudapi.com");
        for site in [Site::Cn, Site::Intl] {
            let c = choose("apigateway", site, Access::Regional, "ap-guangzhou").unwrap();
            assert_eq!(c.host, "apigateway.ap-guangzhou.tencentcloudapi.com");
            assert_eq!(c.fallback_note, None);
        }
        let c = choose("cvm", Site::Intl, Access::Nearest, "ap-guangzhou").unwrap();
        assert_eq!(c.host, "cvm.intl.tencentcloudapi.com");
    }

    #[test]
    fn an_undocumented_region_falls_back_to_nearest_and_says_so() {
        let c = choose("cvm", Site::Cn, Access::Regional, "ap-jakarta").unwrap();
        assert_eq!(c.host, "cvm.tencentcloudapi.com");
        let note = c.fallback_note.unwrap();
        assert!(note.contains("ap-jakarta") && note.contains("nearest"), "{note}");
        // Asking for nearest access is no fallback.
        let c = choose("cvm", Site::Cn, Access::Nearest, "ap-jakarta").unwrap();
        assert_eq!(c.fallback_note, None);
    }

    #[test]
    fn financial_regions_always_use_their_region_host() {
        for access in [Access::Regional, Access::Nearest] {
            let c = choose("cvm", Site::Cn, access, "ap-shanghai-fsi").unwrap();
            assert_eq!(c.host, "cvm.ap-shanghai-fsi.tencentcloudapi.com");
        }
        let err = choose("cvm", Site::Intl, Access::Regional, "ap-shenzhen-fsi").unwrap_err();
        assert!(err.contains("financial") && err.contains("site = \"cn\""), "{err}");
    }

    #[test]
    fn the_host_names_the_access_region() {
        assert_eq!(access_region("cvm.tencentcloudapi.com"), AccessRegion::Nearest);
        assert_eq!(access_region("cvm.intl.tencentcloudapi.com:443"), AccessRegion::Nearest);
        assert_eq!(
            access_region("CVM.ap-Guangzhou.tencentcloudapi.com"),
            AccessRegion::Region("ap-guangzhou".into())
        );
        assert_eq!(
            access_region("apigateway.ap-shanghai-fsi.tencentcloudapi.com:8443"),
            AccessRegion::Region("ap-shanghai-fsi".into())
        );
        assert_eq!(access_region("127.0.0.1:9400"), AccessRegion::Nearest);
        assert_eq!(access_region("[::1]:9400"), AccessRegion::Nearest);
        assert_eq!(access_region("localhost"), AccessRegion::Nearest);
        assert_eq!(access_region("evil-tencentcloudapi.com"), AccessRegion::Nearest);
        assert_eq!(access_region("a.b.c.tencentcloudapi.com"), AccessRegion::Nearest);
    }

    #[test]
    fn hosts_name_their_service() {
        assert_eq!(
            service_of_host("cvm.ap-guangzhou.tencentcloudapi.com").as_deref(),
            Some("cvm")
        );
        assert_eq!(
            service_of_host("apigateway.intl.tencentcloudapi.com:443").as_deref(),
            Some("apigateway")
        );
        assert_eq!(service_of_host("127.0.0.1:9400"), None);
    }

    #[test]
    fn all_hosts_cover_both_sites_and_each_documented_region() {
        let hosts = all_hosts("cvm", ["ap-guangzhou", "ap-jakarta", "ap-shanghai-fsi", "ap-guangzhou"]);
        assert_eq!(
            hosts,
            [
                "cvm.tencentcloudapi.com",
                "cvm.intl.tencentcloudapi.com",
                "cvm.ap-guangzhou.tencentcloudapi.com",
                "cvm.ap-shanghai-fsi.tencentcloudapi.com",
            ]
        );
    }
}
