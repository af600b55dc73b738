//! The request limits the emulator enforces, as token buckets (capacity = limit, refill =
//! limit per second; governor's GCRA with a burst equal to the per-second quota is exactly
//! that bucket):
//! - the documented per-API limits (apigateway 20/s, cvm 10/s, cam 5 or 20/s by action,
//!   `TcService::rate_limit`), counted as the service
//!   does (doc 1278/109059) per API + *access region* + caller: the access region is the one
//!   the request's Host names (`endpoint::access_region`), so every nearest-access host (and
//!   any host naming no region, such as 127.0.0.1:PORT) shares one bucket and each region
//!   host has its own, whatever `X-TC-Region` says;
//! - optionally an account-wide cap (`RequestLimitExceeded.UinLimitExceeded`) over every
//!   action, service and host of one account, and an IP cap
//!   (`RequestLimitExceeded.IPLimitExceeded`) over every request. Tencent does not publish
//!   either number, so both are off unless asked for.

use super::model::TcService;
use crate::providers::tencent::endpoint::{self, AccessRegion};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;

/// One per-API bucket: (SecretId, action, access region).
type ApiKey = (String, String, AccessRegion);

type Keyed<K, C> = RateLimiter<K, HashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;
type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The per-API bucket of this (caller, action, access region) is empty.
    PerApi,
    /// The account-wide cap is reached.
    Uin,
    /// The IP cap is reached.
    Ip,
}

/// The optional caps beyond the documented per-API limits, requests per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Caps {
    pub uin: Option<u32>,
    pub ip: Option<u32>,
}

pub(crate) struct RateLimits<C: Clock = DefaultClock> {
    /// One keyed limiter per service and documented rate: apigateway and cvm have one rate
    /// for every API, CAM one per action (two distinct figures). Each bucket is still one
    /// (SecretId, action, access region), so sharing a limiter between actions of the same
    /// rate shares nothing but the quota's shape.
    per_api: HashMap<(TcService, u32), Keyed<ApiKey, C>>,
    /// Keyed by account name: one seed account is one Tencent account (UIN).
    uin: Option<Keyed<String, C>>,
    ip: Option<Direct<C>>,
}

fn quota(per_second: u32) -> Option<Quota> {
    NonZeroU32::new(per_second).map(Quota::per_second)
}

impl RateLimits<DefaultClock> {
    pub fn new(caps: Caps) -> Self {
        Self::with_clock(caps, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimits<C> {
    pub fn with_clock(caps: Caps, clock: C) -> Self {
        let mut per_api = HashMap::new();
        for service in TcService::ALL {
            for action in service.actions() {
                let rate = service.rate_limit(action);
                // The documented limits are constants above zero; `MIN` is only the type's fallback.
                let q = quota(rate).unwrap_or(Quota::per_second(NonZeroU32::MIN));
                per_api
                    .entry((service, rate))
                    .or_insert_with(|| RateLimiter::hashmap_with_clock(q, clock.clone()));
            }
        }
        RateLimits {
            per_api,
            // A cap of 0 would refuse everything; callers validate it away, and here it means "off".
            uin: caps
                .uin
                .and_then(quota)
                .map(|q| RateLimiter::hashmap_with_clock(q, clock.clone())),
            ip: caps
                .ip
                .and_then(quota)
                .map(|q| RateLimiter::direct_with_clock(q, clock)),
        }
    }

    /// Takes one token from the IP cap, if there is one.
    pub fn allow_ip(&self) -> Result<(), Refusal> {
        match &self.ip {
            Some(limiter) if limiter.check().is_err() => Err(Refusal::Ip),
            _ => Ok(()),
        }
    }

    /// Takes one token for this caller, action and Host from the per-API bucket, then from
    /// the account's cap. The per-API bucket goes first so that a request it refuses does
    /// not also use up the account's budget (governor takes a token only when it admits):
    /// the account cap then counts the requests the service would actually serve, and a
    /// client that paces each action correctly sees UinLimitExceeded only when the account
    /// as a whole is too fast, which is what that code tells it.
    pub fn allow(
        &self,
        service: TcService,
        account: &str,
        secret_id: &str,
        action: &str,
        host: &str,
    ) -> Result<(), Refusal> {
        // Every served action has its limiter (built from the same action lists the front
        // door checks before it gets here); an unknown one has no documented limit to enforce.
        if let Some(limiter) = self.per_api.get(&(service, service.rate_limit(action))) {
            let key = (secret_id.to_string(), action.to_string(), endpoint::access_region(host));
            if limiter.check_key(&key).is_err() {
                return Err(Refusal::PerApi);
            }
        }
        match &self.uin {
            Some(uin) if uin.check_key(&account.to_string()).is_err() => Err(Refusal::Uin),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::time::Duration;

    const NEAREST: &str = "cvm.tencentcloudapi.com";

    fn limits(caps: Caps) -> (RateLimits<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (RateLimits::with_clock(caps, clock.clone()), clock)
    }

    fn cvm(l: &RateLimits<FakeRelativeClock>, secret_id: &str, action: &str, host: &str) -> Result<(), Refusal> {
        l.allow(TcService::Cvm, "acme", secret_id, action, host)
    }

    #[test]
    fn a_burst_beyond_capacity_is_refused() {
        let (l, _) = limits(Caps::default());
        for i in 0..10 {
            assert_eq!(cvm(&l, "AKID1", "DescribeKeyPairs", NEAREST), Ok(()), "request {i}");
        }
        assert_eq!(cvm(&l, "AKID1", "DescribeKeyPairs", NEAREST), Err(Refusal::PerApi));
        // Other actions and other callers have their own buckets.
        assert_eq!(cvm(&l, "AKID1", "DeleteKeyPairs", NEAREST), Ok(()));
        assert_eq!(cvm(&l, "AKID2", "DescribeKeyPairs", NEAREST), Ok(()));
    }

    #[test]
    fn the_documented_rate_is_never_refused() {
        let (l, clock) = limits(Caps::default());
        let call = || l.allow(TcService::ApiGateway, "acme", "AKID1", "DescribeApiKeysStatus", NEAREST);
        // Three seconds of apigateway calls at exactly 20/s, after an initial full burst.
        for _ in 0..20 {
            assert_eq!(call(), Ok(()));
        }
        for i in 0..60 {
            clock.advance(Duration::from_millis(50));
            assert_eq!(call(), Ok(()), "paced request {i}");
        }
        assert_eq!(call(), Err(Refusal::PerApi));
    }

    #[test]
    fn each_region_host_admits_the_full_rate() {
        let (l, _) = limits(Caps::default());
        let regions = ["ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-hongkong"];
        for region in regions {
            let host = format!("cvm.{region}.tencentcloudapi.com");
            for i in 0..10 {
                assert_eq!(
                    cvm(&l, "AKID1", "DescribeKeyPairs", &host),
                    Ok(()),
                    "{region} request {i}"
                );
            }
            assert_eq!(
                cvm(&l, "AKID1", "DescribeKeyPairs", &host),
                Err(Refusal::PerApi),
                "{region}"
            );
        }
        // The region hosts' buckets are not the nearest-access one.
        assert_eq!(cvm(&l, "AKID1", "DescribeKeyPairs", NEAREST), Ok(()));
    }

    #[test]
    fn nearest_access_hosts_share_one_bucket() {
        let (l, _) = limits(Caps::default());
        // Both sites' nearest hosts and a host naming no region, 10 requests in all.
        let hosts = [
            "cvm.tencentcloudapi.com",
            "cvm.intl.tencentcloudapi.com:443",
            "127.0.0.1:9400",
        ];
        for i in 0..10 {
            assert_eq!(
                cvm(&l, "AKID1", "DescribeKeyPairs", hosts[i % 3]),
                Ok(()),
                "request {i}"
            );
        }
        for host in hosts {
            assert_eq!(
                cvm(&l, "AKID1", "DescribeKeyPairs", host),
                Err(Refusal::PerApi),
                "{host}"
            );
        }
    }

    #[test]
    fn the_account_cap_counts_every_action_and_host_of_one_account() {
        let (l, clock) = limits(Caps { uin: Some(3), ip: None });
        assert_eq!(cvm(&l, "AKID1", "DescribeKeyPairs", NEAREST), Ok(()));
        assert_eq!(
            cvm(&l, "AKID1", "DeleteKeyPairs", "cvm.ap-shanghai.tencentcloudapi.com"),
            Ok(())
        );
        let apigw = l.allow(TcService::ApiGateway, "acme", "AKID1", "DescribeApiKeysStatus", NEAREST);
        assert_eq!(apigw, Ok(()));
        assert_eq!(cvm(&l, "AKID1", "CreateKeyPair", NEAREST), Err(Refusal::Uin));
        // Another account has its own cap.
        assert_eq!(
            l.allow(TcService::Cvm, "other", "AKID9", "CreateKeyPair", NEAREST),
            Ok(())
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(cvm(&l, "AKID1", "CreateKeyPair", NEAREST), Ok(()));
    }

    #[test]
    fn a_per_api_refusal_does_not_use_the_account_cap() {
        let (l, _) = limits(Caps {
            uin: Some(11),
            ip: None,
        });
        for _ in 0..10 {
            assert_eq!(cvm(&l, "AKID1", "DescribeKeyPairs", NEAREST), Ok(()));
        }
        for _ in 0..5 {
            assert_eq!(cvm(&l, "AKID1", "DescribeKeyPairs", NEAREST), Err(Refusal::PerApi));
        }
        // 10 admitted so far: one more fits in the cap of 11.
        assert_eq!(cvm(&l, "AKID1", "DeleteKeyPairs", NEAREST), Ok(()));
        assert_eq!(cvm(&l, "AKID1", "CreateKeyPair", NEAREST), Err(Refusal::Uin));
    }

    #[test]
    fn cam_actions_have_their_own_documented_rates() {
        let (l, _) = limits(Caps::default());
        let cam = |action: &str| l.allow(TcService::Cam, "acme", "AKID1", action, "cam.tencentcloudapi.com");
        for (action, rate) in [("DeleteAccessKey", 5), ("UpdateAccessKey", 5), ("ListAccessKeys", 20)] {
            for i in 0..rate {
                assert_eq!(cam(action), Ok(()), "{action} request {i}");
            }
            assert_eq!(cam(action), Err(Refusal::PerApi), "{action} beyond {rate}");
        }
        // CreateAccessKey shares DeleteAccessKey's rate, not its bucket.
        assert_eq!(cam("CreateAccessKey"), Ok(()));
    }

    #[test]
    fn the_ip_cap_counts_every_request() {
        let (l, _) = limits(Caps { uin: None, ip: Some(2) });
        assert_eq!(l.allow_ip(), Ok(()));
        assert_eq!(l.allow_ip(), Ok(()));
        assert_eq!(l.allow_ip(), Err(Refusal::Ip));
        let (off, _) = limits(Caps::default());
        assert!((0..100).all(|_| off.allow_ip().is_ok()));
    }
}
