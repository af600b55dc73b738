//! The documented per-API request limits (apigateway 20/s, cvm 10/s), enforced per
//! (SecretId, action) as a token bucket: capacity = limit, refill = limit per second.
//! governor's GCRA with a burst equal to the per-second quota is exactly that bucket.

use super::model::TcService;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;

type Limiter<C> =
    RateLimiter<(String, String), HashMapStateStore<(String, String)>, C, NoOpMiddleware<<C as Clock>::Instant>>;

pub(crate) struct RateLimits<C: Clock = DefaultClock> {
    apigateway: Limiter<C>,
    cvm: Limiter<C>,
}

fn quota(per_second: u32) -> Quota {
    // The limits are constants above zero; `MIN` is only the type's required fallback.
    Quota::per_second(NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits<DefaultClock> {
    pub fn new() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimits<C> {
    pub fn with_clock(clock: C) -> Self {
        RateLimits {
            apigateway: RateLimiter::hashmap_with_clock(quota(TcService::ApiGateway.rate_limit()), clock.clone()),
            cvm: RateLimiter::hashmap_with_clock(quota(TcService::Cvm.rate_limit()), clock),
        }
    }

    /// Takes one token for this caller and action; false when the bucket is empty.
    pub fn allow(&self, service: TcService, secret_id: &str, action: &str) -> bool {
        let limiter = match service {
            TcService::ApiGateway => &self.apigateway,
            TcService::Cvm => &self.cvm,
        };
        limiter.check_key(&(secret_id.to_string(), action.to_string())).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::time::Duration;

    #[test]
    fn a_burst_beyond_capacity_is_refused() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(clock.clone());
        for i in 0..10 {
            assert!(limits.allow(TcService::Cvm, "AKID1", "DescribeKeyPairs"), "request {i}");
        }
        assert!(!limits.allow(TcService::Cvm, "AKID1", "DescribeKeyPairs"));
        // Other actions and other callers have their own buckets.
        assert!(limits.allow(TcService::Cvm, "AKID1", "DeleteKeyPairs"));
        assert!(limits.allow(TcService::Cvm, "AKID2", "DescribeKeyPairs"));
    }

    #[test]
    fn the_documented_rate_is_never_refused() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(clock.clone());
        // Three seconds of apigateway calls at exactly 20/s, after an initial full burst.
        for _ in 0..20 {
            assert!(limits.allow(TcService::ApiGateway, "AKID1", "DescribeApiKeysStatus"));
        }
        for i in 0..60 {
            clock.advance(Duration::from_millis(50));
            assert!(
                limits.allow(TcService::ApiGateway, "AKID1", "DescribeApiKeysStatus"),
                "paced request {i}"
            );
        }
        assert!(!limits.allow(TcService::ApiGateway, "AKID1", "DescribeApiKeysStatus"));
    }
}
