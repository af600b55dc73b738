//! Adaptive throttling for the limits Tencent does not publish.
//!
//! Tencent counts three limits (service-facts 1a): the documented per-API rate per
//! (action, access region, sub-account) — paced exactly by each client's governor limiter —
//! and two whose values are unpublished: one per main account
//! (`RequestLimitExceeded.UinLimitExceeded`, `.GlobalRegionUinLimitExceeded`) and one per
//! source IP (`RequestLimitExceeded.IPLimitExceeded`). For those, a [`RateGuard`] learns
//! the cap from the refusals (AIMD, as TCP does with an unknown link rate): unlimited until
//! the first refusal, then capped at ~0.85 x the rate observed over the last second, raised
//! by max(1, 5 %) per second without a refusal, and unlimited again once the cap is well
//! above what the guarded clients could send anyway. The sawtooth between 0.85 and 1 x the
//! real cap keeps the average above 0.85 x of it, and every refusal is retried, so the
//! operator sees no error.
//!
//! The clock is a parameter (`now`) of every decision, so the arithmetic is unit-tested
//! without sleeping; only [`RateGuard::acquire`] reads the real clock.

use crate::providers::ProviderError;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Which limit a refusal names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The documented per-API limit (plain `RequestLimitExceeded`): the client's own pacer
    /// already keeps below it, so a refusal means another user of the SecretId: back off.
    Api,
    /// The main account's limit, shared by its sub-accounts and every tool using them.
    Account,
    /// The limit of the address the requests come from.
    Ip,
}

/// The limit a Tencent error code names, or `None` when it is no throttling refusal.
pub fn limit_of(code: &str) -> Option<Limit> {
    match code {
        "RequestLimitExceeded.UinLimitExceeded" | "RequestLimitExceeded.GlobalRegionUinLimitExceeded" => {
            Some(Limit::Account)
        }
        "RequestLimitExceeded.IPLimitExceeded" => Some(Limit::Ip),
        c if c.starts_with("RequestLimitExceeded") => Some(Limit::Api),
        _ => None,
    }
}

/// The error the operator sees once the throttling retries are used up: the service's
/// own error, with which limit it was and what to do about it.
pub fn exhausted(err: ProviderError, limit: Limit, attempts: u32, host: &str) -> ProviderError {
    let advice = match limit {
        Limit::Api => format!(
            "the per-API rate limit on {host} for this SecretId stayed exceeded after {attempts} attempts; \
             keyward keeps below it on its own, so another tool or the console is using the same SecretId: \
             wait a minute and retry, or give keyward its own sub-account"
        ),
        Limit::Account => format!(
            "the main account's request limit (shared by all its sub-accounts and tools) stayed exceeded after \
             {attempts} attempts: wait a minute and retry, or pause other tools using this account's API"
        ),
        Limit::Ip => format!(
            "the request limit of this machine's IP address stayed exceeded after {attempts} attempts: wait a \
             minute and retry, or run fewer API tools (keyward, tccli, scripts) from this address"
        ),
    };
    let message = if err.message.is_empty() {
        advice
    } else {
        format!("{} ({advice})", err.message)
    };
    ProviderError { message, ..err }
}

/// Below this a cap is never set: one request per second always goes.
const MIN_RATE: f64 = 1.0;
/// A refusal caps the rate at this fraction of the rate observed over the last second.
const DECREASE: f64 = 0.85;
/// Each second without a refusal raises the cap by this fraction (or by `MIN_STEP`).
const INCREASE: f64 = 0.05;
const MIN_STEP: f64 = 1.0;
/// The cap is dropped once it exceeds this multiple of the guarded clients' summed rates:
/// the per-action pacers then bound the traffic long before the cap could.
const UNLIMITED_ABOVE: f64 = 2.0;
const WINDOW: Duration = Duration::from_secs(1);

/// One AIMD rate guard: for one account (all its services and hosts) or for the process.
#[derive(Debug)]
pub struct RateGuard {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Requests per second; `None` while no refusal has been seen (or after recovery).
    cap: Option<f64>,
    /// The summed per-action rates of the clients sharing this guard.
    capacity: f64,
    /// Booked send times not older than `WINDOW`, oldest first.
    recent: VecDeque<Instant>,
    /// Under a cap, the earliest time the next request may go.
    next_slot: Option<Instant>,
    /// When the cap last changed: increases count whole seconds from here.
    last_change: Option<Instant>,
    /// Refusals of requests sent within `WINDOW` after this belong to the episode that set the cap.
    last_decrease: Option<Instant>,
}

impl Default for RateGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl RateGuard {
    pub fn new() -> Self {
        RateGuard {
            state: Mutex::new(State {
                cap: None,
                capacity: 0.0,
                recent: VecDeque::new(),
                next_slot: None,
                last_change: None,
                last_decrease: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent between statements: a panic elsewhere does not spoil it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A client sharing this guard can send up to `rate` requests per second.
    pub fn add_capacity(&self, rate: f64) {
        self.state().capacity += rate;
    }

    /// The current cap in requests per second (`None`: unlimited), recovery applied.
    pub fn cap(&self, now: Instant) -> Option<f64> {
        let mut s = self.state();
        s.recover(now);
        s.cap
    }

    /// Books one request and returns when it may be sent (`now` when unlimited).
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut s = self.state();
        s.recover(now);
        let at = match s.cap {
            None => now,
            Some(cap) => {
                let at = s.next_slot.map_or(now, |slot| slot.max(now));
                s.next_slot = Some(at + Duration::from_secs_f64(1.0 / cap));
                at
            }
        };
        s.recent.push_back(at);
        s.prune(now);
        at
    }

    /// A request sent at `sent_at` was refused for this guard's limit at `now`: cap the
    /// rate at `DECREASE` x what went out over the last second. Refusals of requests sent
    /// less than one counting window after the last decrease are that episode's: the
    /// service still counts the requests sent at the old rate until its window has moved
    /// past them, so lowering again for each would divide the rate many times over.
    pub fn throttled(&self, sent_at: Instant, now: Instant) {
        let mut s = self.state();
        if s.last_decrease.is_some_and(|d| sent_at < d + WINDOW) {
            return;
        }
        s.prune(now);
        let observed = s.recent.iter().filter(|t| **t <= now).count() as f64;
        let mut cap = (observed * DECREASE).max(MIN_RATE);
        if let Some(old) = s.cap {
            cap = cap.min((old * DECREASE).max(MIN_RATE));
        }
        tracing::debug!(observed, cap, "Tencent throttling: lowering the shared request rate");
        s.cap = Some(cap);
        s.last_change = Some(now);
        s.last_decrease = Some(now);
        s.next_slot = Some(s.next_slot.map_or(now, |slot| slot.max(now)));
    }

    /// Waits until this guard lets one more request go.
    pub async fn acquire(&self) {
        let now = Instant::now();
        let at = self.reserve(now);
        if at > now {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        }
    }
}

impl State {
    fn prune(&mut self, now: Instant) {
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// Additive increase: one step per whole second since the cap last changed.
    fn recover(&mut self, now: Instant) {
        let (Some(mut cap), Some(since)) = (self.cap, self.last_change) else {
            return;
        };
        let seconds = now.saturating_duration_since(since).as_secs();
        if seconds == 0 {
            return;
        }
        let unlimited_above = (self.capacity * UNLIMITED_ABOVE).max(MIN_RATE);
        for _ in 0..seconds {
            cap += (cap * INCREASE).max(MIN_STEP);
            if cap > unlimited_above {
                tracing::debug!("Tencent throttling: the shared request rate is unlimited again");
                self.cap = None;
                self.next_slot = None;
                self.last_change = None;
                return;
            }
        }
        self.cap = Some(cap);
        // u64 seconds back to a Duration: exact.
        self.last_change = Some(since + Duration::from_secs(seconds));
    }
}

/// The guard every account of this process shares for the IP limit: one address, one limit.
pub fn process_guard() -> Arc<RateGuard> {
    static GUARD: OnceLock<Arc<RateGuard>> = OnceLock::new();
    Arc::clone(GUARD.get_or_init(|| Arc::new(RateGuard::new())))
}

/// The two learned limits one client obeys: its account's and its address's.
#[derive(Debug, Clone)]
pub struct Guards {
    /// Shared by every client of one account (all services and hosts).
    pub account: Arc<RateGuard>,
    /// Shared by every account (see [`process_guard`]).
    pub process: Arc<RateGuard>,
}

impl Guards {
    /// Guards of their own, for a client that shares them with nothing (tests, tools).
    pub fn standalone() -> Self {
        Guards {
            account: Arc::new(RateGuard::new()),
            process: Arc::new(RateGuard::new()),
        }
    }

    /// A new account's guards: its own account guard and the process-wide IP guard.
    pub fn for_account() -> Self {
        Guards {
            account: Arc::new(RateGuard::new()),
            process: process_guard(),
        }
    }

    /// A client that can send `rate` requests per second joins both guards.
    pub fn add_capacity(&self, rate: f64) {
        self.account.add_capacity(rate);
        self.process.add_capacity(rate);
    }

    pub async fn acquire(&self) {
        self.account.acquire().await;
        self.process.acquire().await;
    }

    /// Routes a refusal to the guard of the limit it names; the per-API limit has its own
    /// pacer and only backs off.
    pub fn throttled(&self, limit: Limit, sent_at: Instant, now: Instant) {
        match limit {
            Limit::Account => self.account.throttled(sent_at, now),
            Limit::Ip => self.process.throttled(sent_at, now),
            Limit::Api => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ErrorKind;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` requests booked evenly over the second before `t0 + 1 s`; returns `t0 + 1 s`.
    fn send_for_a_second(guard: &RateGuard, t0: Instant, n: u64) -> Instant {
        for i in 0..n {
            guard.reserve(t0 + ms(i * 1000 / n));
        }
        t0 + ms(1000)
    }

    #[test]
    fn codes_name_their_limit() {
        assert_eq!(limit_of("RequestLimitExceeded"), Some(Limit::Api));
        assert_eq!(limit_of("RequestLimitExceeded.UinLimitExceeded"), Some(Limit::Account));
        assert_eq!(
            limit_of("RequestLimitExceeded.GlobalRegionUinLimitExceeded"),
            Some(Limit::Account)
        );
        assert_eq!(limit_of("RequestLimitExceeded.IPLimitExceeded"), Some(Limit::Ip));
        assert_eq!(limit_of("LimitExceeded.ApiKeyCountLimitExceeded"), None);
        assert_eq!(limit_of("HttpStatus429"), None);
    }

    #[test]
    fn unlimited_until_the_first_refusal() {
        let guard = RateGuard::new();
        guard.add_capacity(20.0);
        let t0 = Instant::now();
        for i in 0..500 {
            let now = t0 + Duration::from_micros(i);
            assert_eq!(guard.reserve(now), now);
        }
        assert_eq!(guard.cap(t0 + ms(1)), None);
    }

    #[test]
    fn a_refusal_caps_the_rate_below_what_was_observed_and_paces_to_it() {
        let guard = RateGuard::new();
        guard.add_capacity(100.0);
        let t0 = Instant::now();
        let now = send_for_a_second(&guard, t0, 40);
        guard.throttled(now, now);
        let cap = guard.cap(now).unwrap();
        assert!((cap - 34.0).abs() < 1e-9, "0.85 x 40 = 34, got {cap}");
        // Requests are now spaced 1/34 s apart.
        let first = guard.reserve(now);
        let second = guard.reserve(now);
        let third = guard.reserve(now);
        assert_eq!(first, now);
        let gap = Duration::from_secs_f64(1.0 / 34.0);
        assert_eq!(second - first, gap);
        assert_eq!(third - second, gap);
    }

    #[test]
    fn refusals_within_a_window_of_the_decrease_do_not_lower_it_again() {
        let guard = RateGuard::new();
        guard.add_capacity(100.0);
        let t0 = Instant::now();
        let now = send_for_a_second(&guard, t0, 40);
        guard.throttled(now, now);
        // Requests in flight, and those sent while the service's window still holds the
        // old rate, come back refused.
        for i in 1..=10 {
            guard.throttled(now - ms(50), now + ms(i));
            guard.throttled(now + ms(90 * i), now + ms(90 * i + 5));
        }
        assert!((guard.cap(now + ms(950)).unwrap() - 34.0).abs() < 1e-9);
        // A request sent a window after the decrease is a new episode: the cap drops again.
        let later = now + ms(1000);
        guard.throttled(later, later);
        assert!(guard.cap(later).unwrap() <= 34.0 * DECREASE + 1e-9);
    }

    #[test]
    fn the_cap_recovers_additively_and_then_is_dropped() {
        let guard = RateGuard::new();
        guard.add_capacity(30.0);
        let t0 = Instant::now();
        let now = send_for_a_second(&guard, t0, 40);
        guard.throttled(now, now);
        assert!(
            (guard.cap(now + ms(999)).unwrap() - 34.0).abs() < 1e-9,
            "no step before a whole second"
        );
        // 5 % of 34 is more than 1.
        let after_one = guard.cap(now + ms(1000)).unwrap();
        assert!((after_one - 34.0 * 1.05).abs() < 1e-9, "{after_one}");
        let after_two = guard.cap(now + ms(2500)).unwrap();
        assert!((after_two - 34.0 * 1.05 * 1.05).abs() < 1e-9, "{after_two}");
        // Well above twice the clients' 30/s: unlimited again, and requests go at once.
        let later = now + Duration::from_secs(60);
        assert_eq!(guard.cap(later), None);
        assert_eq!(guard.reserve(later), later);
    }

    #[test]
    fn a_small_cap_grows_by_at_least_one_request_per_second() {
        let guard = RateGuard::new();
        guard.add_capacity(100.0);
        let t0 = Instant::now();
        let now = send_for_a_second(&guard, t0, 2);
        guard.throttled(now, now);
        assert_eq!(guard.cap(now), Some(MIN_RATE.max(2.0 * DECREASE)));
        assert_eq!(guard.cap(now + ms(3000)), Some(2.0 * DECREASE + 3.0));
    }

    #[test]
    fn a_refusal_after_recovery_starts_from_the_observed_rate() {
        // Sustained sending against a hidden cap of 50/s settles between 0.85 and 1 x it.
        let guard = RateGuard::new();
        guard.add_capacity(200.0);
        let hidden = 50.0;
        let t0 = Instant::now();
        let mut now = t0;
        let mut window: VecDeque<Instant> = VecDeque::new();
        let mut sent = 0u32;
        let end = t0 + Duration::from_secs(60);
        while now < end {
            let at = guard.reserve(now);
            now = at;
            while window
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
            {
                window.pop_front();
            }
            if window.len() as f64 >= hidden {
                guard.throttled(at, now);
            } else {
                window.push_back(at);
                if now > t0 + Duration::from_secs(10) {
                    sent += 1;
                }
            }
            // An unlimited client sends a request every millisecond.
            now += ms(1);
        }
        let rate = f64::from(sent) / 50.0;
        assert!(rate >= 0.85 * hidden, "{rate}/s against a hidden 50/s");
        assert!(rate <= hidden, "{rate}/s");
    }

    #[test]
    fn account_and_ip_refusals_lower_only_their_own_guard() {
        let t0 = Instant::now();
        let guards = Guards::standalone();
        guards.add_capacity(100.0);
        let now = send_for_a_second(&guards.account, t0, 40);
        send_for_a_second(&guards.process, t0, 40);

        guards.throttled(Limit::Api, now, now);
        assert_eq!((guards.account.cap(now), guards.process.cap(now)), (None, None));

        guards.throttled(Limit::Account, now, now);
        assert!(guards.account.cap(now).is_some());
        assert_eq!(guards.process.cap(now), None);

        let other = Guards::standalone();
        other.add_capacity(100.0);
        send_for_a_second(&other.process, t0, 40);
        other.throttled(Limit::Ip, now, now);
        assert_eq!(other.account.cap(now), None);
        assert!(other.process.cap(now).is_some());
    }

    #[test]
    fn accounts_share_the_process_guard_and_not_each_other_s() {
        let (a, b) = (Guards::for_account(), Guards::for_account());
        assert!(Arc::ptr_eq(&a.process, &b.process));
        assert!(!Arc::ptr_eq(&a.account, &b.account));
    }

    #[test]
    fn the_exhausted_message_names_the_limit_and_the_fix() {
        let err = || ProviderError::new(ErrorKind::RateLimited, "RequestLimitExceeded.IPLimitExceeded", "IP限频");
        let e = exhausted(err(), Limit::Ip, 9, "cvm.tencentcloudapi.com");
        assert_eq!(e.code, "RequestLimitExceeded.IPLimitExceeded");
        assert!(e.message.starts_with("IP限频"), "{}", e.message);
        assert!(
            e.message.contains("IP address") && e.message.contains("9 attempts"),
            "{}",
            e.message
        );
        let e = exhausted(err(), Limit::Account, 9, "h");
        assert!(e.message.contains("main account"), "{}", e.message);
        let e = exhausted(err(), Limit::Api, 9, "cvm.ap-guangzhou.tencentcloudapi.com");
        assert!(
            e.message.contains("per-API") && e.message.contains("cvm.ap-guangzhou"),
            "{}",
            e.message
        );
    }
}
