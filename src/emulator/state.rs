//! The emulator's mutable world: accounts, their keys, counters, fault settings.
//! `EmulatorState` is a cheap clone handle shared by the handlers and by tests, which use
//! it to inspect and arrange data without going through the APIs.

use super::model::{
    ApiKeyRecord, CamAccount, CamKeyRecord, CamKeyView, CamUserRecord, Faults, KeyPairRecord, NonceTable, ObKeyRecord,
    TcService, beijing, roll,
};
use super::ratelimit::{Caps, RateLimits, Refusal};
use super::seed::{Seed, SeedCam, SeedRole, SeedTencentAccount};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) struct TencentAccount {
    pub name: String,
    pub regions: Vec<String>,
    /// Keyed by region.
    pub api_keys: BTreeMap<String, Vec<ApiKeyRecord>>,
    /// Keyed by region, or all under [`GLOBAL_KEY_PAIRS`] when `key_pairs_global`.
    pub key_pairs: BTreeMap<String, Vec<KeyPairRecord>>,
    /// Key pairs belong to the account, not to a region: every region sees the same ones.
    pub key_pairs_global: bool,
    /// CAM users and access keys. The seed account's `secret_id` is one of the root's keys:
    /// the credentials live here only, so disabling that key through CAM locks it out.
    pub cam: CamAccount,
    /// Roles other accounts may assume (STS AssumeRole), with their trust policies.
    pub roles: Vec<SeedRole>,
    /// The members of the organization this account manages, by account name, with
    /// their unit (department) names.
    pub org_members: Option<Vec<(String, String)>>,
}

/// Temporary credentials STS handed out: the account and role they act as, and when
/// they stop working.
pub(crate) struct TempKey {
    pub account: String,
    pub secret: Secret,
    pub token: Secret,
    /// Unix seconds (the server's clock).
    pub expires_at: i64,
}

/// The one `key_pairs` entry of an account whose key pairs are account-global.
const GLOBAL_KEY_PAIRS: &str = "*";

impl TencentAccount {
    /// The key pairs a call in `region` sees and changes: that region's own, or the
    /// account's one set when key pairs are global (the quota then counts per account too).
    pub fn key_pairs_in(&mut self, region: &str) -> &mut Vec<KeyPairRecord> {
        let scope = if self.key_pairs_global {
            GLOBAL_KEY_PAIRS
        } else {
            region
        };
        self.key_pairs.entry(scope.to_string()).or_default()
    }

    fn key_pairs_seen_in(&self, region: &str) -> Option<&Vec<KeyPairRecord>> {
        if !self.regions.iter().any(|r| r == region) {
            return None;
        }
        self.key_pairs.get(if self.key_pairs_global {
            GLOBAL_KEY_PAIRS
        } else {
            region
        })
    }
}

pub(crate) struct ObAccount {
    pub name: String,
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub org_id: String,
    pub project_ids: Vec<String>,
    /// Keyed by project id.
    pub keys: BTreeMap<String, Vec<ObKeyRecord>>,
}

#[derive(Default)]
pub(crate) struct Data {
    pub tencent: Vec<TencentAccount>,
    pub oceanbase: Vec<ObAccount>,
    /// By temporary SecretId.
    pub temp_keys: std::collections::HashMap<String, TempKey>,
    /// The seed's `token_ttl_secs` (or a test's): overrides DurationSeconds.
    pub token_ttl_secs: Option<u64>,
}

impl Data {
    fn from_seed(seed: &Seed) -> Data {
        let tencent =
            seed.tencent_accounts()
                .iter()
                .map(|a| {
                    let mut api_keys: BTreeMap<String, Vec<ApiKeyRecord>> =
                        a.regions.iter().map(|r| (r.clone(), Vec::new())).collect();
                    for k in &a.api_keys {
                        api_keys.entry(k.region.clone()).or_default().push(ApiKeyRecord {
                            id: k.id.clone(),
                            secret: Secret::new(k.secret.clone()),
                            key_type: k.key_type.clone(),
                            name: k.name.clone(),
                            enabled: !k.disabled,
                            usage_plan: k.usage_plan.clone(),
                            created: k.created.clone(),
                            modified: k.modified.clone().unwrap_or_else(|| k.created.clone()),
                        });
                    }
                    let mut key_pairs: BTreeMap<String, Vec<KeyPairRecord>> = BTreeMap::new();
                    for k in &a.key_pairs {
                        let scope = if a.key_pairs_global {
                            GLOBAL_KEY_PAIRS
                        } else {
                            &k.region
                        };
                        key_pairs.entry(scope.to_string()).or_default().push(KeyPairRecord {
                            id: k.id.clone(),
                            region: k.region.clone(),
                            name: k.name.clone(),
                            project_id: k.project_id,
                            description: k.description.clone(),
                            public_key: k.public_key.clone().unwrap_or_else(|| {
                                super::fake::ssh_public_key(&mut super::fake::rng_for(&k.id), &k.id)
                            }),
                            instance_ids: k.instances.clone(),
                            image_ids: k.images.clone(),
                            created: k.created.clone(),
                        });
                    }
                    TencentAccount {
                        name: a.name.clone(),
                        regions: a.regions.clone(),
                        api_keys,
                        key_pairs,
                        key_pairs_global: a.key_pairs_global,
                        cam: cam_from_seed(a, chrono::Utc::now()),
                        roles: a.roles.clone(),
                        org_members: a.organization.as_ref().map(|o| {
                            o.members
                                .iter()
                                .map(|m| (m.clone(), o.units.get(m).cloned().unwrap_or_else(|| "Root".into())))
                                .collect()
                        }),
                    }
                })
                .collect();
        let oceanbase = seed
            .oceanbase_accounts()
            .iter()
            .map(|a| {
                let mut keys: BTreeMap<String, Vec<ObKeyRecord>> =
                    a.project_ids.iter().map(|p| (p.clone(), Vec::new())).collect();
                for k in &a.keys {
                    keys.entry(k.project_id.clone()).or_default().push(ObKeyRecord {
                        id: k.id.clone(),
                        name: k.name.clone(),
                        secret: Secret::new(k.secret.clone()),
                        created: k.created.clone(),
                        updated: k.created.clone(),
                        expires: k.expires.clone(),
                        last_used: k.last_used.clone(),
                    });
                }
                ObAccount {
                    name: a.name.clone(),
                    access_key_id: a.access_key_id.clone(),
                    access_key_secret: Secret::new(a.access_key_secret.clone()),
                    org_id: a.org_id.clone(),
                    project_ids: a.project_ids.clone(),
                    keys,
                }
            })
            .collect();
        Data {
            tencent,
            oceanbase,
            temp_keys: Default::default(),
            token_ttl_secs: seed.token_ttl_secs,
        }
    }

    pub fn tencent_by_uin(&self, uin: u64) -> Option<&TencentAccount> {
        self.tencent.iter().find(|a| a.cam.root_uin == uin)
    }

    /// The account and CAM key a SecretId names, whichever user of whichever account it
    /// belongs to; None when no key has that id.
    pub fn tencent_key(&self, secret_id: &str) -> Option<(&TencentAccount, &CamKeyRecord)> {
        self.tencent.iter().find_map(|a| a.cam.key(secret_id).map(|k| (a, k)))
    }

    pub fn tencent_by_name(&self, name: &str) -> Option<&TencentAccount> {
        self.tencent.iter().find(|a| a.name == name)
    }

    pub fn tencent_by_name_mut(&mut self, name: &str) -> Option<&mut TencentAccount> {
        self.tencent.iter_mut().find(|a| a.name == name)
    }

    pub fn ob_by_access_key(&self, access_key_id: &str) -> Option<&ObAccount> {
        self.oceanbase.iter().find(|a| a.access_key_id == access_key_id)
    }
}

/// An account's CAM as the emulator starts with it: the seed's section (or the default of
/// a root user holding the account's key), ages resolved against `now`.
fn cam_from_seed(account: &SeedTencentAccount, now: chrono::DateTime<chrono::Utc>) -> CamAccount {
    let seed = account.cam.clone().unwrap_or_else(|| SeedCam::default_for(account));
    let days_ago = |days: u32| now - chrono::TimeDelta::days(i64::from(days));
    let mut users = vec![CamUserRecord {
        uin: seed.root_uin,
        name: account.name.clone(),
        uid: seed.root_uin % 100_000_000,
        remark: String::new(),
        console_login: true,
        created: beijing(days_ago(3650)),
        root: true,
    }];
    users.extend(seed.users.iter().map(|u| CamUserRecord {
        uin: u.uin,
        name: u.name.clone(),
        uid: u.uid.unwrap_or(u.uin % 100_000_000),
        remark: u.remark.clone(),
        console_login: u.console_login,
        created: beijing(days_ago(u.created_days_ago)),
        root: false,
    }));
    let keys = seed
        .keys
        .iter()
        .map(|k| {
            let secret = if k.id == account.secret_id {
                account.secret_key.clone()
            } else {
                k.secret
                    .clone()
                    .unwrap_or_else(|| super::fake::cam_secret_key(&mut super::fake::rng_for(&k.id)))
            };
            CamKeyRecord {
                id: k.id.clone(),
                secret: Secret::new(secret),
                owner_uin: k.user,
                active: !k.inactive,
                created: beijing(days_ago(k.created_days_ago)),
                description: k.description.clone(),
                last_used: k.last_used_days_ago.map(days_ago),
            }
        })
        .collect();
    CamAccount {
        root_uin: seed.root_uin,
        users,
        keys,
        delete_requires_inactive: seed.delete_requires_inactive,
    }
}

struct Shared {
    data: Mutex<Data>,
    faults: Mutex<Faults>,
    nonces: Mutex<NonceTable>,
    limits: RateLimits,
    caps: Caps,
    enforce_rate_limits: AtomicBool,
    requests: AtomicU64,
    /// Requests being handled right now (a crash drill waits for 0 after killing a client,
    /// so what it reads next is what the killed client's calls left).
    in_flight: AtomicU64,
    /// Connections accepted (each TLS or TCP connection, whatever it carries).
    connections: AtomicU64,
    /// Every RequestLimitExceeded* answer (and OceanBase HTTP 429), forced ones included.
    rate_limited: AtomicU64,
    /// The RequestLimitExceeded.UinLimitExceeded answers among them.
    uin_limited: AtomicU64,
    /// Authenticated Tencent calls per action name, admitted or refused.
    by_action: Mutex<BTreeMap<String, u64>>,
    /// Milliseconds added to the real clock wherever the emulator reads the time to judge a
    /// request (the TC3 timestamp window), to play a server whose clock differs from the client's.
    clock_offset_ms: AtomicI64,
    /// `host:port` the emulator listens on, reported as the MaaS envelope's `server`.
    server: Mutex<String>,
}

/// A request being handled; see [`EmulatorState::handling`].
pub(crate) struct InFlight(EmulatorState);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Cheap clone handle on the emulator's data and counters.
#[derive(Clone)]
pub struct EmulatorState {
    shared: Arc<Shared>,
}

/// A poisoned lock only means another handler panicked mid-update; the data is still the
/// best we have, so keep serving rather than propagate the panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl EmulatorState {
    pub(crate) fn new(seed: &Seed, faults: Faults, enforce_rate_limits: bool, caps: Caps) -> Self {
        EmulatorState {
            shared: Arc::new(Shared {
                data: Mutex::new(Data::from_seed(seed)),
                faults: Mutex::new(faults),
                nonces: Mutex::new(NonceTable::default()),
                limits: RateLimits::new(caps),
                caps,
                enforce_rate_limits: AtomicBool::new(enforce_rate_limits),
                requests: AtomicU64::new(0),
                in_flight: AtomicU64::new(0),
                connections: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
                uin_limited: AtomicU64::new(0),
                by_action: Mutex::new(BTreeMap::new()),
                clock_offset_ms: AtomicI64::new(0),
                server: Mutex::new(String::new()),
            }),
        }
    }

    pub(crate) fn data(&self) -> MutexGuard<'_, Data> {
        lock(&self.shared.data)
    }

    pub(crate) fn nonces(&self) -> MutexGuard<'_, NonceTable> {
        lock(&self.shared.nonces)
    }

    pub(crate) fn set_server(&self, server: String) {
        *lock(&self.shared.server) = server;
    }

    pub(crate) fn server(&self) -> String {
        lock(&self.shared.server).clone()
    }

    pub(crate) fn count_request(&self) {
        self.shared.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request as being handled until the guard is dropped (answered, or its
    /// connection gone).
    pub(crate) fn handling(&self) -> InFlight {
        self.shared.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> u64 {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn count_connection(&self) {
        self.shared.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Connections accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// The optional account and IP caps this emulator enforces.
    pub(crate) fn caps(&self) -> Caps {
        self.shared.caps
    }

    fn enforcing(&self) -> bool {
        self.shared.enforce_rate_limits.load(Ordering::Relaxed)
    }

    fn count_refusal(&self, refusal: Refusal) -> Refusal {
        self.shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        if refusal == Refusal::Uin {
            self.shared.uin_limited.fetch_add(1, Ordering::Relaxed);
        }
        refusal
    }

    /// The IP cap, over every Tencent request whoever sends it (when limits are enforced
    /// and a cap is set). Counts refusals.
    pub(crate) fn admit_ip(&self) -> Result<(), Refusal> {
        if !self.enforcing() {
            return Ok(());
        }
        self.shared.limits.allow_ip().map_err(|r| self.count_refusal(r))
    }

    /// The rate-limit decision for one authenticated call: forced by fault injection (as
    /// a per-API refusal), or the buckets of this caller's action at the access region its
    /// `host` names and the account's cap, when limits are enforced. Counts refusals.
    pub(crate) fn admit(
        &self,
        service: TcService,
        account: &str,
        secret_id: &str,
        action: &str,
        host: &str,
    ) -> Result<(), Refusal> {
        *lock(&self.shared.by_action).entry(action.to_string()).or_default() += 1;
        if self.forced_rate_limit() {
            return Err(self.count_refusal(Refusal::PerApi));
        }
        if !self.enforcing() {
            return Ok(());
        }
        self.shared
            .limits
            .allow(service, account, secret_id, action, host)
            .map_err(|r| self.count_refusal(r))
    }

    /// Fault-injected refusal only (OceanBase documents no limits). Counts refusals.
    pub(crate) fn forced_rate_limit_now(&self) -> bool {
        let refused = self.forced_rate_limit();
        if refused {
            self.shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        refused
    }

    fn forced_rate_limit(&self) -> bool {
        roll(self.faults().force_rate_limit)
    }

    // ---- public handle for tests, `--demo` and benches -------------------------------

    pub fn faults(&self) -> Faults {
        *lock(&self.shared.faults)
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    /// Sets the server clock to the real time plus `offset` (negative: behind). A server ten
    /// minutes ahead sees every fresh request as ten minutes old: AuthFailure.SignatureExpire.
    pub fn set_clock_offset(&self, offset: chrono::TimeDelta) {
        self.shared
            .clock_offset_ms
            .store(offset.num_milliseconds(), Ordering::Relaxed);
    }

    pub fn clock_offset(&self) -> chrono::TimeDelta {
        // Only values from `num_milliseconds` are stored, which are always in range.
        chrono::TimeDelta::try_milliseconds(self.shared.clock_offset_ms.load(Ordering::Relaxed)).unwrap_or_default()
    }

    /// The server's idea of now: the real clock plus the configured offset.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let now = chrono::Utc::now();
        // An offset past the calendar's end is a test's mistake; keep the real time then.
        now.checked_add_signed(self.clock_offset()).unwrap_or(now)
    }

    pub fn set_enforce_rate_limits(&self, on: bool) {
        self.shared.enforce_rate_limits.store(on, Ordering::Relaxed);
    }

    /// HTTP requests received, including dropped and failed ones.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Authenticated Tencent calls of `action` so far (rate-limited ones included).
    pub fn action_count(&self, action: &str) -> u64 {
        lock(&self.shared.by_action).get(action).copied().unwrap_or(0)
    }

    /// Requests refused with any RequestLimitExceeded* code (or HTTP 429), forced ones
    /// and the account and IP caps' included.
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Relaxed)
    }

    /// Requests refused with RequestLimitExceeded.UinLimitExceeded (the account-wide cap).
    pub fn uin_limited_count(&self) -> u64 {
        self.shared.uin_limited.load(Ordering::Relaxed)
    }

    /// Marks every outstanding digest nonce as expired: the next request that uses one
    /// gets a 401 with `stale=true`.
    pub fn expire_digest_nonces(&self) {
        self.nonces().expire_all();
    }

    pub fn key_pair_ids(&self, account: &str, region: &str) -> Vec<String> {
        self.key_pairs(account, region).into_iter().map(|k| k.id).collect()
    }

    /// The key pairs DescribeKeyPairs in `region` answers with: that region's, or the
    /// account's one set when its key pairs are global.
    pub fn key_pairs(&self, account: &str, region: &str) -> Vec<KeyPairRecord> {
        let data = self.data();
        data.tencent_by_name(account)
            .and_then(|a| a.key_pairs_seen_in(region))
            .cloned()
            .unwrap_or_default()
    }

    pub fn key_pair(&self, account: &str, region: &str, id: &str) -> Option<KeyPairRecord> {
        self.key_pairs(account, region).into_iter().find(|k| k.id == id)
    }

    pub fn api_key_ids(&self, account: &str, region: &str) -> Vec<String> {
        self.api_keys(account, region).into_iter().map(|k| k.id).collect()
    }

    pub fn api_keys(&self, account: &str, region: &str) -> Vec<ApiKeyRecord> {
        let data = self.data();
        data.tencent_by_name(account)
            .and_then(|a| a.api_keys.get(region))
            .cloned()
            .unwrap_or_default()
    }

    pub fn api_key(&self, account: &str, region: &str, id: &str) -> Option<ApiKeyRecord> {
        self.api_keys(account, region).into_iter().find(|k| k.id == id)
    }

    pub fn ob_key_ids(&self, account: &str, project_id: &str) -> Vec<String> {
        self.ob_keys(account, project_id).into_iter().map(|k| k.id).collect()
    }

    pub fn ob_keys(&self, account: &str, project_id: &str) -> Vec<ObKeyRecord> {
        let data = self.data();
        data.oceanbase
            .iter()
            .find(|a| a.name == account)
            .and_then(|a| a.keys.get(project_id))
            .cloned()
            .unwrap_or_default()
    }

    /// The account's CAM access keys, every user's, without their secrets.
    pub fn cam_keys(&self, account: &str) -> Vec<CamKeyView> {
        let data = self.data();
        data.tencent_by_name(account)
            .map(|a| a.cam.keys.iter().map(CamKeyView::from).collect())
            .unwrap_or_default()
    }

    /// `Active` or `Inactive`, or None when the account has no key `id` (deleted, or never was).
    pub fn cam_key_status(&self, account: &str, id: &str) -> Option<&'static str> {
        let data = self.data();
        data.tencent_by_name(account)
            .and_then(|a| a.cam.key(id))
            .map(CamKeyRecord::status)
    }

    /// The account's CAM users, the root first.
    pub fn cam_users(&self, account: &str) -> Vec<CamUserRecord> {
        let data = self.data();
        data.tencent_by_name(account)
            .map(|a| a.cam.users.clone())
            .unwrap_or_default()
    }

    /// Makes AssumeRole's credentials live `secs` seconds from now on (None: as asked).
    pub fn set_token_ttl(&self, secs: Option<u64>) {
        self.data().token_ttl_secs = secs;
    }

    /// Ends every temporary credential handed out so far, as if its time were up.
    pub fn expire_tokens(&self) {
        let now = self.now().timestamp();
        for key in self.data().temp_keys.values_mut() {
            key.expires_at = key.expires_at.min(now - 1);
        }
    }

    /// Breaks or mends the trust policy of `role` in `account`: the accounts it trusts.
    pub fn set_role_trust(&self, account: &str, role: &str, trusted: Vec<String>) -> bool {
        let mut data = self.data();
        let Some(a) = data.tencent_by_name_mut(account) else {
            return false;
        };
        match a.roles.iter_mut().find(|r| r.name == role) {
            Some(r) => {
                r.trusted = trusted;
                true
            }
            None => false,
        }
    }

    /// The account's root uin.
    pub fn cam_root_uin(&self, account: &str) -> Option<u64> {
        self.data().tencent_by_name(account).map(|a| a.cam.root_uin)
    }

    /// Sets the seed's `delete_requires_inactive` switch of one account; false when there
    /// is no such account.
    pub fn set_cam_delete_requires_inactive(&self, account: &str, on: bool) -> bool {
        match self.data().tencent_by_name_mut(account) {
            Some(a) => {
                a.cam.delete_requires_inactive = on;
                true
            }
            None => false,
        }
    }

    /// Applies `f` to one API key; false when the account, region or id does not exist.
    pub fn update_api_key(&self, account: &str, region: &str, id: &str, f: impl FnOnce(&mut ApiKeyRecord)) -> bool {
        let mut data = self.data();
        let key = data
            .tencent_by_name_mut(account)
            .and_then(|a| a.api_keys.get_mut(region))
            .and_then(|keys| keys.iter_mut().find(|k| k.id == id));
        match key {
            Some(k) => {
                f(k);
                true
            }
            None => false,
        }
    }
}
