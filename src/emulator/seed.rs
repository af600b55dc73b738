//! The emulator's starting data: accounts with their (fake) credentials and the keys
//! each holds. A seed file lists items literally and/or as compact `generate` specs that
//! expand deterministically, so the demo inventory of hundreds of keys stays a short file.

use super::fake;
use super::model::Faults;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Expanding `generate` specs: seed's own helper, using seed's types.
mod expand;

/// The management account `Seed::with_organization` adds.
pub const FLEET_ADMIN: &str = "fleet-admin";

const DEMO_SEED: &str = include_str!("../../assets/demo-seed.toml");

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("seed {origin} is not valid TOML for the emulator: {source}")]
    Parse {
        origin: String,
        source: Box<toml::de::Error>,
    },
    #[error("seed {origin}: {problem}")]
    Invalid { origin: String, problem: String },
}

/// Everything the emulator starts with. Generator specs are already expanded: the
/// lists hold every item.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Fault injection the seed asks for; command-line flags override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<SeedFaults>,
    #[serde(default)]
    pub tencent: Vec<SeedTencentAccount>,
    #[serde(default)]
    pub oceanbase: Vec<SeedObAccount>,
    /// How long STS AssumeRole's temporary credentials live, whatever DurationSeconds asks
    /// (tests of refresh and expiry use a few seconds); absent: DurationSeconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ttl_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFaults {
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default)]
    pub drop_rate: f64,
    #[serde(default)]
    pub force_rate_limit: f64,
}

impl From<SeedFaults> for Faults {
    fn from(f: SeedFaults) -> Self {
        Faults {
            latency: Duration::from_millis(f.latency_ms),
            error_rate: f.error_rate,
            drop_rate: f.drop_rate,
            force_rate_limit: f.force_rate_limit,
        }
    }
}

/// One Tencent Cloud account (one SecretId/SecretKey pair) and its keys in each region.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTencentAccount {
    pub name: String,
    pub secret_id: String,
    pub secret_key: String,
    /// Regions the account may call; others get an invalid-region error.
    pub regions: Vec<String>,
    /// Key pairs belong to the account rather than to a region (the CVM doc's quota is
    /// "per account" and says nothing of regions; which shape the service has is not
    /// confirmed): every region answers DescribeKeyPairs with the same pairs, a delete or
    /// rename from any region acts on the one pair, and the 100-pair quota counts per
    /// account. Default false: each region has its own pairs and quota.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key_pairs_global: bool,
    #[serde(default)]
    pub api_keys: Vec<SeedApiKey>,
    #[serde(default)]
    pub key_pairs: Vec<SeedKeyPair>,
    /// Expanded into `api_keys` / `key_pairs` on load.
    #[serde(default, skip_serializing)]
    pub generate: Vec<TencentGenerate>,
    /// The account's CAM users and access keys. Absent: a root user (uin derived from the
    /// account name) whose one key is the account's own `secret_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cam: Option<SeedCam>,
    /// CAM roles other accounts may assume through STS AssumeRole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<SeedRole>,
    /// The organization this account manages (DescribeOrganizationMembers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<SeedOrganization>,
}

/// A CAM role and its trust policy: the accounts allowed to assume it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRole {
    pub name: String,
    /// Names of the seed accounts whose credentials may assume the role (the trust
    /// policy's principals). Empty: nobody (a broken trust policy).
    #[serde(default)]
    pub trusted: Vec<String>,
    /// The trust policy's `qcs:ExternalId` condition: AssumeRole must send this ExternalId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// An organization: its member accounts, by seed account name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    pub members: Vec<String>,
    /// The unit (department, `NodeName`) of some members, by member name; others are in
    /// the root unit, answered as `Root`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub units: std::collections::BTreeMap<String, String>,
    /// The account serves only as the management account: the demo config reaches it
    /// through nothing but its `[[tencent_organization]]` table (the fleet bench's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manage_only: bool,
}

impl SeedTencentAccount {
    /// The account's root uin: its CAM section's, or the one derived from its name.
    pub fn root_uin(&self) -> u64 {
        match &self.cam {
            Some(cam) => cam.root_uin,
            None => SeedCam::default_for(self).root_uin,
        }
    }

    /// The organization whose member this account is, by its management account's name.
    pub fn managed_by<'a>(&self, seed: &'a Seed) -> Option<&'a SeedTencentAccount> {
        seed.tencent
            .iter()
            .find(|m| m.organization.as_ref().is_some_and(|o| o.members.contains(&self.name)))
    }
}

/// An account's CAM users and access keys. The account's `secret_id` must be one of the
/// root user's keys: it is the root's credential, and disabling or deleting it through
/// CAM stops the account from signing requests, as on the real service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCam {
    /// The account's root (owner) uin.
    pub root_uin: u64,
    /// DeleteAccessKey of an Active key is refused (`FailedOperation.Accesskey`) until the
    /// key is disabled. The API docs are silent (the console asks to disable first); false
    /// plays a service that deletes an Active key outright. Default true.
    #[serde(default = "yes")]
    pub delete_requires_inactive: bool,
    /// Sub-users (the root is implied by `root_uin`).
    #[serde(default)]
    pub users: Vec<SeedCamUser>,
    #[serde(default)]
    pub keys: Vec<SeedCamKey>,
}

fn yes() -> bool {
    true
}

/// A CAM sub-user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCamUser {
    pub uin: u64,
    pub name: String,
    /// Default: derived from the uin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u64>,
    #[serde(default)]
    pub remark: String,
    #[serde(default)]
    pub console_login: bool,
    /// Days before the emulator starts that the user was created.
    #[serde(default)]
    pub created_days_ago: u32,
}

/// A CAM access key of the root (`user = root_uin`) or of a sub-user. Ages are days before
/// the emulator starts, so a seed keeps the same shape whenever it runs.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedCamKey {
    /// The owner's uin.
    pub user: u64,
    pub id: String,
    /// Default: the account's `secret_key` for the account's own key, else a generated one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default)]
    pub inactive: bool,
    #[serde(default)]
    pub created_days_ago: u32,
    #[serde(default)]
    pub description: String,
    /// Days since the key was last used; absent: never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_days_ago: Option<u32>,
}

impl SeedCam {
    /// The CAM of an account whose seed has none: a root user whose one key is the
    /// account's credential, created a year before the emulator starts, never used.
    pub fn default_for(account: &SeedTencentAccount) -> SeedCam {
        let mut rng = fake::rng_for(&format!("{}/cam-root", account.name));
        SeedCam {
            root_uin: rand::Rng::random_range(&mut rng, 100_000_000_000..200_000_000_000),
            delete_requires_inactive: true,
            users: Vec::new(),
            keys: vec![SeedCamKey {
                user: 0,
                id: account.secret_id.clone(),
                secret: None,
                inactive: false,
                created_days_ago: 365,
                description: String::new(),
                last_used_days_ago: None,
            }],
        }
        .with_root_keys()
    }

    /// Keys given `user = 0` belong to the root (only `default_for` makes them).
    fn with_root_keys(mut self) -> SeedCam {
        for k in &mut self.keys {
            if k.user == 0 {
                k.user = self.root_uin;
            }
        }
        self
    }

    /// Every rule a CAM section must keep, naming what is wrong; `credentials` holds the
    /// SecretIds already taken by every account (a SecretId signs, so it names one key).
    fn validate(&self, account: &SeedTencentAccount, credentials: &mut HashSet<String>) -> Result<(), String> {
        use crate::providers::tencent::cam::MAX_KEYS_PER_USER;
        let who = &account.name;
        let mut uins = HashSet::from([self.root_uin]);
        for u in &self.users {
            if !uins.insert(u.uin) {
                return Err(format!(
                    "CAM user uin {} appears twice in {who:?} (or is the root's)",
                    u.uin
                ));
            }
        }
        let mut per_user: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        let mut own_key = false;
        for k in &self.keys {
            if !uins.contains(&k.user) {
                return Err(format!(
                    "CAM key {} of {who:?} belongs to uin {}, which is neither root_uin nor a listed user",
                    k.id, k.user
                ));
            }
            let count = per_user.entry(k.user).or_default();
            *count += 1;
            if *count > MAX_KEYS_PER_USER {
                return Err(format!(
                    "CAM user {} of {who:?} has more than {MAX_KEYS_PER_USER} keys, the service's limit",
                    k.user
                ));
            }
            if k.id == account.secret_id {
                own_key = true;
                if k.user != self.root_uin || k.inactive {
                    return Err(format!(
                        "{who:?}'s secret_id {} must be an Active key of the root user (root_uin {})",
                        k.id, self.root_uin
                    ));
                }
                if k.secret.as_ref().is_some_and(|s| *s != account.secret_key) {
                    return Err(format!(
                        "CAM key {} of {who:?} is the account's secret_id: leave out its secret (it is secret_key)",
                        k.id
                    ));
                }
            } else if !credentials.insert(k.id.clone()) {
                return Err(format!(
                    "CAM key id {} of {who:?} is used by another key or account",
                    k.id
                ));
            }
        }
        if !own_key {
            return Err(format!(
                "the cam section of {who:?} must list the account's secret_id {} as a key of the root user",
                account.secret_id
            ));
        }
        Ok(())
    }
}

/// An API Gateway API key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedApiKey {
    pub region: String,
    pub id: String,
    pub secret: String,
    pub name: String,
    /// `auto` or `manual`.
    #[serde(default = "auto")]
    pub key_type: String,
    #[serde(default)]
    pub disabled: bool,
    /// Usage plan the key is bound to; such a key cannot be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_plan: Option<String>,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

fn auto() -> String {
    "auto".to_string()
}

/// A CVM SSH key pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedKeyPair {
    pub region: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub project_id: i64,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Instances using the pair: DeleteKeyPairs keeps it.
    #[serde(default)]
    pub instances: Vec<String>,
    /// Custom images containing the pair: DeleteKeyPairs keeps it.
    #[serde(default)]
    pub images: Vec<String>,
    pub created: String,
}

/// "Make N keys in this region", with shares of disabled and bound ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TencentGenerate {
    pub region: String,
    #[serde(default)]
    pub api_keys: usize,
    #[serde(default)]
    pub key_pairs: usize,
    /// Share of API keys that are disabled.
    #[serde(default)]
    pub disabled_share: f64,
    /// Share of API keys bound to a usage plan.
    #[serde(default)]
    pub usage_plan_share: f64,
    /// Share of key pairs bound to instances.
    #[serde(default)]
    pub instance_share: f64,
    /// Share of key pairs used by a custom image.
    #[serde(default)]
    pub image_share: f64,
}

/// One OceanBase Cloud organization AccessKey and the MaaS API keys of its projects.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedObAccount {
    pub name: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub org_id: String,
    pub project_ids: Vec<String>,
    #[serde(default)]
    pub keys: Vec<SeedObKey>,
    #[serde(default, skip_serializing)]
    pub generate: Vec<ObGenerate>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedObKey {
    pub project_id: String,
    pub id: String,
    pub name: String,
    pub secret: String,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObGenerate {
    pub project_id: String,
    pub keys: usize,
    /// Share of keys with an expiry date.
    #[serde(default)]
    pub expiring_share: f64,
}

// Secrets in seeds are fake, but a seed file may be someone's own: Debug never shows them.
impl fmt::Debug for SeedTencentAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedTencentAccount")
            .field("name", &self.name)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"********")
            .field("regions", &self.regions)
            .field("key_pairs_global", &self.key_pairs_global)
            .field("api_keys", &self.api_keys.len())
            .field("key_pairs", &self.key_pairs.len())
            .field("cam", &self.cam)
            .finish()
    }
}

impl fmt::Debug for SeedCamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedCamKey")
            .field("user", &self.user)
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "********"))
            .field("inactive", &self.inactive)
            .field("created_days_ago", &self.created_days_ago)
            .field("last_used_days_ago", &self.last_used_days_ago)
            .finish()
    }
}

impl fmt::Debug for SeedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedApiKey")
            .field("region", &self.region)
            .field("id", &self.id)
            .field("secret", &"********")
            .field("name", &self.name)
            .field("disabled", &self.disabled)
            .field("usage_plan", &self.usage_plan)
            .finish()
    }
}

impl fmt::Debug for SeedObAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedObAccount")
            .field("name", &self.name)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"********")
            .field("org_id", &self.org_id)
            .field("project_ids", &self.project_ids)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl fmt::Debug for SeedObKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeedObKey")
            .field("project_id", &self.project_id)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &"********")
            .finish()
    }
}

impl Seed {
    /// The demo inventory shipped in `assets/demo-seed.toml`.
    pub fn demo() -> Result<Seed, SeedError> {
        Self::parse(DEMO_SEED, "assets/demo-seed.toml (built in)")
    }

    pub fn from_file(path: impl AsRef<Path>) -> Result<Seed, SeedError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses seed TOML, expands the generator specs and checks the result.
    pub fn parse(text: &str, origin: &str) -> Result<Seed, SeedError> {
        let mut seed: Seed = toml::from_str(text).map_err(|source| SeedError::Parse {
            origin: origin.to_string(),
            source: Box::new(source),
        })?;
        seed.expand();
        seed.validate().map_err(|problem| SeedError::Invalid {
            origin: origin.to_string(),
            problem,
        })?;
        Ok(seed)
    }

    /// A large deterministic inventory for tests and benchmarks: `tencent_accounts` accounts
    /// named `tencent-00`... each holding `key_pairs` key pairs and `api_keys` API keys in every
    /// region, plus one OceanBase account `oceanbase-00` with `ob_keys` keys in project `proj-00`.
    pub fn generated(
        tencent_accounts: usize,
        regions: &[&str],
        key_pairs: usize,
        api_keys: usize,
        ob_keys: usize,
    ) -> Seed {
        let tencent = (0..tencent_accounts)
            .map(|i| {
                let name = format!("tencent-{i:02}");
                let mut rng = fake::rng_for(&format!("{name}/credentials"));
                SeedTencentAccount {
                    secret_id: format!(
                        "AKIDGEN{i:02}{}",
                        fake::chars(&mut rng, b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 27)
                    ),
                    secret_key: fake::chars(
                        &mut rng,
                        b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                        32,
                    ),
                    name,
                    regions: regions.iter().map(|r| r.to_string()).collect(),
                    key_pairs_global: false,
                    api_keys: Vec::new(),
                    key_pairs: Vec::new(),
                    // The default CAM: the root user and the account's own key.
                    cam: None,
                    roles: Vec::new(),
                    organization: None,
                    generate: regions
                        .iter()
                        .map(|r| TencentGenerate {
                            region: r.to_string(),
                            api_keys,
                            key_pairs,
                            disabled_share: 0.2,
                            usage_plan_share: 0.1,
                            instance_share: 0.2,
                            image_share: 0.05,
                        })
                        .collect(),
                }
            })
            .collect();
        let mut rng = fake::rng_for("oceanbase-00/credentials");
        let oceanbase = vec![SeedObAccount {
            name: "oceanbase-00".to_string(),
            access_key_id: format!(
                "obak-{}",
                fake::chars(&mut rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 20)
            ),
            access_key_secret: fake::chars(
                &mut rng,
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                32,
            ),
            org_id: "org-00".to_string(),
            project_ids: vec!["proj-00".to_string()],
            keys: Vec::new(),
            generate: vec![ObGenerate {
                project_id: "proj-00".to_string(),
                keys: ob_keys,
                expiring_share: 0.3,
            }],
        }];
        let mut seed = Seed {
            faults: None,
            tencent,
            oceanbase,
            token_ttl_secs: None,
        };
        seed.expand();
        seed
    }

    /// The same seed with every Tencent account a member of one organization, managed by
    /// a new account `fleet-admin` (no keys, the first account's regions, `manage_only`),
    /// each member holding `role_name` trusting it: the fleet bench's enterprise shape.
    pub fn with_organization(mut self, role_name: &str) -> Seed {
        let members: Vec<String> = self.tencent.iter().map(|a| a.name.clone()).collect();
        for account in &mut self.tencent {
            account.roles.push(SeedRole {
                name: role_name.to_string(),
                trusted: vec![FLEET_ADMIN.to_string()],
                external_id: None,
            });
        }
        let mut rng = fake::rng_for("fleet-admin/credentials");
        self.tencent.push(SeedTencentAccount {
            name: FLEET_ADMIN.to_string(),
            secret_id: format!(
                "AKIDFLEETADMIN{}",
                fake::chars(&mut rng, b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 22)
            ),
            secret_key: fake::chars(
                &mut rng,
                b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                32,
            ),
            regions: self.tencent.first().map(|a| a.regions.clone()).unwrap_or_default(),
            key_pairs_global: false,
            api_keys: Vec::new(),
            key_pairs: Vec::new(),
            generate: Vec::new(),
            cam: None,
            roles: Vec::new(),
            organization: Some(SeedOrganization {
                members,
                units: Default::default(),
                manage_only: true,
            }),
        });
        self
    }

    /// The same seed with AssumeRole's credentials living `secs` seconds.
    pub fn with_token_ttl(mut self, secs: u64) -> Seed {
        self.token_ttl_secs = Some(secs);
        self
    }

    /// The same seed with every Tencent account's key pairs account-global. Key pair
    /// names, unique per region until now, are made unique per account (a later duplicate
    /// gets a `_2` suffix), as one account's names must be once its pairs are one set.
    pub fn with_key_pairs_global(mut self) -> Seed {
        for account in &mut self.tencent {
            account.key_pairs_global = true;
            let mut taken = HashSet::new();
            for k in &mut account.key_pairs {
                k.name = fake::unique_name(
                    std::mem::take(&mut k.name),
                    '_',
                    crate::providers::tencent::cvm::KEY_PAIR_NAME_MAX,
                    &mut taken,
                );
            }
        }
        self
    }

    /// The same seed with exactly `per_region` usage plans in every region of every Tencent
    /// account, each bound to two of the region's API keys (the first `2 x per_region` keys;
    /// the rest unbound). The fleet bench uses it: the listing cost of bindings is one
    /// DescribeUsagePlanSecretIds call per plan, so the count must be exact, not drawn.
    pub fn with_usage_plans(mut self, per_region: usize) -> Seed {
        for account in &mut self.tencent {
            let mut pools: std::collections::HashMap<String, (Vec<String>, usize)> = std::collections::HashMap::new();
            for k in &mut account.api_keys {
                let (pool, next) = pools.entry(k.region.clone()).or_insert_with(|| {
                    let mut rng = fake::rng_for(&format!("{}/{}/fleet-plans", account.name, k.region));
                    ((0..per_region).map(|_| fake::usage_plan_id(&mut rng)).collect(), 0)
                });
                k.usage_plan = (*next < 2 * per_region && !pool.is_empty()).then(|| pool[*next % pool.len()].clone());
                *next += 1;
            }
        }
        self
    }

    /// Mutable access for tests that arrange roles and organizations.
    pub fn tencent_accounts_mut(&mut self) -> &mut Vec<SeedTencentAccount> {
        &mut self.tencent
    }

    pub fn tencent_accounts(&self) -> &[SeedTencentAccount] {
        &self.tencent
    }

    pub fn oceanbase_accounts(&self) -> &[SeedObAccount] {
        &self.oceanbase
    }

    /// Turns every `generate` spec into literal items; names stay unique per region/project.
    fn expand(&mut self) {
        for account in &mut self.tencent {
            for spec in std::mem::take(&mut account.generate) {
                expand::tencent(account, &spec);
            }
        }
        for account in &mut self.oceanbase {
            for spec in std::mem::take(&mut account.generate) {
                expand::oceanbase(account, &spec);
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        let mut names = HashSet::new();
        let mut credentials: HashSet<String> = self.tencent.iter().map(|a| a.secret_id.clone()).collect();
        if credentials.len() < self.tencent.len() {
            let mut seen = HashSet::new();
            let dup = self.tencent.iter().find(|a| !seen.insert(a.secret_id.as_str()));
            return Err(format!(
                "secret_id of {:?} is used by another account",
                dup.map(|a| a.name.as_str()).unwrap_or_default()
            ));
        }
        for a in &self.tencent {
            if !names.insert(a.name.as_str()) {
                return Err(format!("account name {:?} is used twice; names must be unique", a.name));
            }
            if a.secret_id.is_empty() || a.secret_key.is_empty() {
                return Err(format!("Tencent account {:?} needs secret_id and secret_key", a.name));
            }
            if let Some(cam) = &a.cam {
                cam.validate(a, &mut credentials)?;
            }
            if a.regions.is_empty() {
                return Err(format!("Tencent account {:?} lists no regions", a.name));
            }
            let mut ids = HashSet::new();
            let mut pair_names = HashSet::new();
            for k in &a.api_keys {
                check_region(&a.name, &a.regions, &k.region)?;
                if !ids.insert(k.id.as_str()) {
                    return Err(format!("API key id {} appears twice in {:?}", k.id, a.name));
                }
            }
            for k in &a.key_pairs {
                check_region(&a.name, &a.regions, &k.region)?;
                if !super::tencent::cvm::is_key_pair_id(&k.id) {
                    return Err(format!(
                        "key pair id {:?} in {:?} is malformed: use skey- and 8 lowercase letters/digits",
                        k.id, a.name
                    ));
                }
                if !ids.insert(k.id.as_str()) {
                    return Err(format!("key pair id {} appears twice in {:?}", k.id, a.name));
                }
                if a.key_pairs_global && !pair_names.insert(k.name.as_str()) {
                    return Err(format!(
                        "key pair name {:?} appears twice in {:?}, whose key pairs are global: names must be \
                         unique in the account",
                        k.name, a.name
                    ));
                }
            }
        }
        for a in &self.tencent {
            let known = |name: &str| self.tencent.iter().any(|b| b.name == name);
            for role in &a.roles {
                if let Some(t) = role.trusted.iter().find(|t| !known(t)) {
                    return Err(format!(
                        "role {:?} of {:?} trusts {t:?}, which is no account",
                        role.name, a.name
                    ));
                }
            }
            if let Some(org) = &a.organization {
                if let Some(m) = org.members.iter().find(|m| !known(m) || *m == &a.name) {
                    return Err(format!(
                        "organization of {:?} lists member {m:?}, which is no other account",
                        a.name
                    ));
                }
            }
        }
        for a in &self.oceanbase {
            if !names.insert(a.name.as_str()) {
                return Err(format!("account name {:?} is used twice; names must be unique", a.name));
            }
            if !credentials.insert(a.access_key_id.clone()) {
                return Err(format!("access_key_id of {:?} is used by another account", a.name));
            }
            let mut ids = HashSet::new();
            for k in &a.keys {
                if !a.project_ids.contains(&k.project_id) {
                    return Err(format!(
                        "key {} of {:?} is in project {:?}, which is not in project_ids",
                        k.id, a.name, k.project_id
                    ));
                }
                if !ids.insert(k.id.as_str()) {
                    return Err(format!("MaaS key id {} appears twice in {:?}", k.id, a.name));
                }
            }
        }
        Ok(())
    }
}

fn check_region(account: &str, regions: &[String], region: &str) -> Result<(), String> {
    if regions.iter().any(|r| r == region) {
        Ok(())
    } else {
        Err(format!(
            "an item of {account:?} is in region {region:?}, which is not in the account's regions {regions:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_loads_with_hundreds_of_each_kind() {
        let seed = Seed::demo().unwrap();
        // acme-prod and acme-staging, and acme-prod's three organization members.
        assert_eq!(seed.tencent_accounts().len(), 5);
        assert_eq!(seed.oceanbase_accounts().len(), 1);
        let api_keys: usize = seed.tencent_accounts().iter().map(|a| a.api_keys.len()).sum();
        let key_pairs: usize = seed.tencent_accounts().iter().map(|a| a.key_pairs.len()).sum();
        let ob: usize = seed.oceanbase_accounts().iter().map(|a| a.keys.len()).sum();
        assert!(api_keys >= 200, "{api_keys}");
        assert!(key_pairs >= 200, "{key_pairs}");
        assert!(ob >= 100, "{ob}");
        let all_keys = seed.tencent_accounts().iter().flat_map(|a| &a.api_keys);
        assert!(all_keys.clone().any(|k| k.disabled && k.usage_plan.is_some()));
        assert!(all_keys.clone().any(|k| k.disabled && k.usage_plan.is_none()));
        let pairs = seed.tencent_accounts().iter().flat_map(|a| &a.key_pairs);
        assert!(pairs.clone().any(|k| !k.instances.is_empty()));
        assert!(pairs.clone().any(|k| !k.images.is_empty()));
        assert!(pairs.clone().any(|k| k.instances.is_empty() && k.images.is_empty()));
    }

    #[test]
    fn generation_is_deterministic() {
        let a = Seed::generated(2, &["ap-guangzhou", "ap-shanghai"], 5, 4, 3);
        let b = Seed::generated(2, &["ap-guangzhou", "ap-shanghai"], 5, 4, 3);
        let ids = |s: &Seed| {
            s.tencent_accounts()
                .iter()
                .flat_map(|a| a.key_pairs.iter().map(|k| k.id.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.tencent_accounts()[1].key_pairs.len(), 10);
        assert_eq!(a.tencent_accounts()[1].api_keys.len(), 8);
        assert_eq!(a.oceanbase_accounts()[0].keys.len(), 3);
        assert!(a.validate().is_ok());
    }

    #[test]
    fn usage_plans_are_exactly_as_many_as_asked_per_region() {
        let seed = Seed::generated(2, &["ap-guangzhou", "ap-shanghai"], 0, 50, 0).with_usage_plans(10);
        for account in seed.tencent_accounts() {
            for region in ["ap-guangzhou", "ap-shanghai"] {
                let keys: Vec<_> = account.api_keys.iter().filter(|k| k.region == region).collect();
                let plans: HashSet<_> = keys.iter().filter_map(|k| k.usage_plan.clone()).collect();
                assert_eq!(plans.len(), 10, "{} {region}", account.name);
                assert_eq!(keys.iter().filter(|k| k.usage_plan.is_some()).count(), 20);
            }
        }
        assert!(seed.validate().is_ok());
    }

    #[test]
    fn the_demo_organization_is_members_trusting_its_manager() {
        let seed = Seed::demo().unwrap();
        let prod = &seed.tencent_accounts()[0];
        let org = prod.organization.as_ref().expect("acme-prod manages an organization");
        assert_eq!(org.members, ["acme-dev", "acme-data", "acme-sandbox"]);
        for name in &org.members {
            let member = seed.tencent_accounts().iter().find(|a| &a.name == name).unwrap();
            assert_eq!(member.managed_by(&seed).map(|m| m.name.as_str()), Some("acme-prod"));
            let role = &member.roles[0];
            assert_eq!(role.name, crate::providers::tencent::organization::DEFAULT_ROLE_NAME);
            assert_eq!(role.trusted, ["acme-prod"], "{name}");
        }
        let mut broken = seed.clone();
        broken.tencent[2].roles[0].trusted = vec!["nobody".into()];
        assert!(broken.validate().unwrap_err().contains("nobody"));
    }

    #[test]
    fn demo_cam_has_users_with_zero_one_and_two_keys_of_every_age() {
        let seed = Seed::demo().unwrap();
        // The organization's members keep the default CAM (a root and its own key).
        let direct: Vec<_> = seed
            .tencent_accounts()
            .iter()
            .filter(|a| a.managed_by(&seed).is_none())
            .collect();
        assert_eq!(direct.len(), 2);
        for a in direct {
            let cam = a.cam.as_ref().unwrap_or_else(|| panic!("{} has a cam section", a.name));
            let own = cam.keys.iter().find(|k| k.id == a.secret_id).unwrap();
            assert_eq!((own.user, own.inactive), (cam.root_uin, false), "{}", a.name);
            let keys_of = |uin: u64| cam.keys.iter().filter(|k| k.user == uin).count();
            let counts: HashSet<usize> = cam.users.iter().map(|u| keys_of(u.uin)).collect();
            assert_eq!(counts, HashSet::from([0, 1, 2]), "{}", a.name);
            assert!(cam.keys.iter().any(|k| k.inactive), "{}", a.name);
        }
        let ages: HashSet<Option<u32>> = seed
            .tencent_accounts()
            .iter()
            .flat_map(|a| a.cam.iter().flat_map(|c| &c.keys))
            .map(|k| k.last_used_days_ago)
            .collect();
        for age in [None, Some(1), Some(40), Some(400)] {
            assert!(ages.contains(&age), "last used {age:?} days ago: {ages:?}");
        }
    }

    #[test]
    fn cam_sections_that_break_a_rule_are_refused_by_name() {
        let seed = |cam: &str| {
            let text = format!(
                "[[tencent]]\nname = \"a\"\nsecret_id = \"AKIDown\"\nsecret_key = \"k\"\nregions = [\"ap-guangzhou\"]\n\
                 [tencent.cam]\nroot_uin = 1\n[[tencent.cam.users]]\nuin = 2\nname = \"dev\"\n{cam}"
            );
            Seed::parse(&text, "test").map(|_| ()).map_err(|e| e.to_string())
        };
        let key = |user: u64, id: &str| format!("[[tencent.cam.keys]]\nuser = {user}\nid = \"{id}\"\n");
        assert_eq!(seed(&key(1, "AKIDown")), Ok(()));
        let err = seed(&key(2, "AKIDdev")).unwrap_err();
        assert!(err.contains("secret_id AKIDown"), "{err}");
        let err = seed(&format!("{}{}", key(1, "AKIDown"), key(3, "AKIDx"))).unwrap_err();
        assert!(err.contains("uin 3"), "{err}");
        let three = format!("{}{}{}{}", key(1, "AKIDown"), key(2, "A1"), key(2, "A2"), key(2, "A3"));
        assert!(seed(&three).unwrap_err().contains("more than 2 keys"));
        let twice = format!("{}{}{}", key(1, "AKIDown"), key(2, "A1"), key(2, "A1"));
        assert!(seed(&twice).unwrap_err().contains("A1"));
        let own_inactive = "[[tencent.cam.keys]]\nuser = 1\nid = \"AKIDown\"\ninactive = true\n";
        assert!(seed(own_inactive).unwrap_err().contains("Active key of the root"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let seed = Seed::demo().unwrap();
        let text = format!("{seed:?}");
        for a in seed.tencent_accounts() {
            assert!(!text.contains(&a.secret_key));
        }
        for a in seed.oceanbase_accounts() {
            assert!(!text.contains(&a.access_key_secret));
        }
        let cam_secrets = seed
            .tencent_accounts()
            .iter()
            .flat_map(|a| a.cam.iter().flat_map(|c| &c.keys))
            .filter_map(|k| k.secret.as_ref());
        for s in cam_secrets {
            assert!(!text.contains(s.as_str()), "a CAM secret in Debug");
        }
    }

    #[test]
    fn invalid_seeds_say_what_is_wrong() {
        let err = Seed::parse(
            r#"[[tencent]]
name = "a"
secret_id = "AKIDx"
secret_key = "k"
regions = ["ap-guangzhou"]
[[tencent.key_pairs]]
region = "ap-guangzhou"
id = "skey-1122"
name = "x"
created = "2024-01-01T00:00:00Z"
"#,
            "test",
        )
        .unwrap_err();
        assert!(err.to_string().contains("skey-1122"), "{err}");
        let err = Seed::parse("[[tencent]]\nname = 1\n", "test").unwrap_err();
        assert!(matches!(err, SeedError::Parse { .. }), "{err}");
    }
}
