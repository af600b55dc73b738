//! Deterministic generators for ids, secrets, names and timestamps, so a seed spec
//! of "120 API keys in ap-guangzhou" expands to the same inventory on every run.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// An RNG whose stream depends only on `label`: the same spec always yields the same data.
pub fn rng_for(label: &str) -> StdRng {
    let digest = Sha256::digest(label.as_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&digest);
    StdRng::from_seed(seed)
}

pub fn chars(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// `AKID` + 36 mixed-case alphanumerics, the shape of an auto-generated API Gateway key id.
pub fn api_key_id(rng: &mut impl Rng) -> String {
    format!("AKID{}", chars(rng, ALNUM, 36))
}

pub fn api_key_secret(rng: &mut impl Rng) -> String {
    chars(rng, ALNUM, 35)
}

/// A CAM SecretId: `AKID` and 32 letters and digits, the shape Tencent's have.
pub fn cam_secret_id(rng: &mut impl Rng) -> String {
    format!("AKID{}", chars(rng, ALNUM, 32))
}

/// A CAM SecretKey: 32 letters and digits.
pub fn cam_secret_key(rng: &mut impl Rng) -> String {
    chars(rng, ALNUM, 32)
}

/// `skey-` + 8 lowercase alphanumerics, the documented key pair id format.
pub fn key_pair_id(rng: &mut impl Rng) -> String {
    format!("skey-{}", chars(rng, LOWER_ALNUM, 8))
}

pub fn instance_id(rng: &mut impl Rng) -> String {
    format!("ins-{}", chars(rng, LOWER_ALNUM, 8))
}

pub fn image_id(rng: &mut impl Rng) -> String {
    format!("img-{}", chars(rng, LOWER_ALNUM, 8))
}

pub fn usage_plan_id(rng: &mut impl Rng) -> String {
    format!("usagePlan-{}", chars(rng, LOWER_ALNUM, 8))
}

/// `ak-` + 16 lowercase alphanumerics, the example id format of the MaaS docs.
pub fn ob_key_id(rng: &mut impl Rng) -> String {
    format!("ak-{}", chars(rng, LOWER_ALNUM, 16))
}

pub fn ob_key_secret(rng: &mut impl Rng) -> String {
    format!("sk-{}", chars(rng, ALNUM, 48))
}

/// A syntactically plausible OpenSSH RSA public key (random bytes, not a usable key).
pub fn ssh_public_key(rng: &mut impl Rng, comment: &str) -> String {
    use base64::Engine;
    let mut body = b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x01\x01\x00".to_vec();
    body.extend((0..256).map(|_| rng.random::<u8>()));
    format!(
        "ssh-rsa {} {comment}",
        base64::engine::general_purpose::STANDARD.encode(body)
    )
}

/// A fake PEM private key: CreateKeyPair returns one once, keyward never stores it.
pub fn fake_private_key(rng: &mut impl Rng) -> String {
    let lines: Vec<String> = (0..25).map(|_| chars(rng, ALNUM, 64)).collect();
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// The instant generated times count back from: today's midnight (UTC), so a seed
/// expanded twice in a day gives the same times, and the ages keyward shows stay like a
/// real fleet's whenever the demo runs (half the keys made in the last four months, the
/// rest over four years).
fn anchor() -> DateTime<Utc> {
    let now = Utc::now();
    now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A UTC time up to four years before today (see [`anchor`]), to the second.
pub fn past_time(rng: &mut impl Rng) -> DateTime<Utc> {
    let days = if rng.random_bool(0.5) {
        rng.random_range(1..120)
    } else {
        rng.random_range(1..1460)
    };
    anchor() - chrono::TimeDelta::days(days) + chrono::TimeDelta::seconds(rng.random_range(0..86_400))
}

/// A UTC time between `after` and today.
pub fn later_time(rng: &mut impl Rng, after: DateTime<Utc>) -> DateTime<Utc> {
    let from = after.timestamp();
    let end = anchor().timestamp();
    if from >= end {
        return after;
    }
    DateTime::from_timestamp(rng.random_range(from..=end), 0).unwrap_or(after)
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn now_iso() -> String {
    iso(Utc::now())
}

fn pick<'a>(rng: &mut impl Rng, words: &[&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

const SERVICES: &[&str] = &[
    "ci-deploy",
    "payments-gw",
    "billing-webhook",
    "grafana-scraper",
    "mobile-app-ios",
    "mobile-app-android",
    "partner-acme",
    "partner-globex",
    "search-api",
    "order-sync",
    "inventory-feed",
    "crm-connector",
    "data-export",
    "marketing-site",
    "loyalty-points",
    "shipping-tracker",
    "sso-bridge",
    "reporting-etl",
    "iot-ingest",
    "chat-support",
];
const QUALIFIERS: &[&str] = &[
    "prod", "staging", "dev", "qa", "2023", "2024", "2025", "v2", "v3", "eu", "sg", "canary", "legacy", "tmp",
];

/// An API Gateway key name such as `ci-deploy-2024`.
pub fn api_key_name(rng: &mut impl Rng) -> String {
    format!("{}-{}", pick(rng, SERVICES), pick(rng, QUALIFIERS))
}

const HOST_ROLES: &[&str] = &[
    "bastion",
    "jenkins_agent",
    "k8s_node",
    "gitlab_runner",
    "db_admin",
    "etl_worker",
    "web",
    "cache",
    "vpn_gw",
    "ops",
    "build",
    "monitor",
    "kafka",
    "es_node",
];
const HOST_ENVS: &[&str] = &["prod", "stg", "dev", "qa", "dr", "sg", "gz", "sh"];
const PEOPLE: &[&str] = &[
    "alice", "bob", "chen", "dmitri", "fatima", "li_wei", "maria", "ravi", "sato", "zhang",
];

/// A key pair name (letters, digits, underscores, at most 25 chars) such as `bastion_prod_01`.
pub fn key_pair_name(rng: &mut impl Rng) -> String {
    if rng.random_bool(0.15) {
        format!("ops_{}_laptop", pick(rng, PEOPLE))
    } else {
        format!(
            "{}_{}_{:02}",
            pick(rng, HOST_ROLES),
            pick(rng, HOST_ENVS),
            rng.random_range(1..40)
        )
    }
}

const AI_USES: &[&str] = &[
    "rag-pipeline",
    "chatbot",
    "embedding-batch",
    "support-copilot",
    "search-rerank",
    "doc-summarizer",
    "eval-harness",
    "agent-sandbox",
    "kb-indexer",
    "sql-assistant",
];

/// A MaaS API key name (2-64 chars of letters, digits, `_`, `-`) such as `rag-pipeline-prod`.
pub fn ob_key_name(rng: &mut impl Rng) -> String {
    format!("{}-{}", pick(rng, AI_USES), pick(rng, QUALIFIERS))
}

const PLAN_TIERS: &[&str] = &["basic", "standard", "premium", "partner", "internal", "trial", "burst"];
const PLAN_USES: &[&str] = &[
    "quota",
    "billing",
    "mobile",
    "webhooks",
    "reporting",
    "search",
    "ingest",
];

/// A usage plan name such as `partner-billing`, the same for the same plan id: seeds name
/// only the plan a key is bound to, the emulator derives the rest of the plan from its id.
pub fn usage_plan_name(plan_id: &str) -> String {
    let mut rng = rng_for(&format!("usage plan {plan_id}"));
    format!("{}-{}", pick(&mut rng, PLAN_TIERS), pick(&mut rng, PLAN_USES))
}

/// Makes `name` unique among `taken` by appending `-2`, `-3`... (or `_2` for key pairs).
pub fn unique_name(name: String, sep: char, max_len: usize, taken: &mut std::collections::HashSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let mut n = 2u64;
    loop {
        let suffix = format!("{sep}{n}");
        let base: String = name.chars().take(max_len.saturating_sub(suffix.len())).collect();
        let candidate = format!("{base}{suffix}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_label_same_stream() {
        let a = api_key_id(&mut rng_for("x"));
        assert_eq!(a, api_key_id(&mut rng_for("x")));
        assert_ne!(a, api_key_id(&mut rng_for("y")));
        assert_eq!(a.len(), 40);
    }

    #[test]
    fn key_pair_names_fit_the_cvm_rules() {
        let mut rng = rng_for("names");
        for _ in 0..500 {
            let n = key_pair_name(&mut rng);
            assert!(n.len() <= 25, "{n}");
            assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{n}");
        }
    }

    #[test]
    fn unique_names_get_suffixes() {
        let mut taken = std::collections::HashSet::new();
        assert_eq!(unique_name("a".into(), '-', 10, &mut taken), "a");
        assert_eq!(unique_name("a".into(), '-', 10, &mut taken), "a-2");
        assert_eq!(unique_name("a".into(), '-', 10, &mut taken), "a-3");
    }
}
