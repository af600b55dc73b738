//! The one interface the queue, the TUI and `keyward list` use for every provider.
//!
//! Each configured (account, region) pair — or (account, project) for OceanBase — is one
//! `Provider` value, serving one [`Scope`]. Calls return a `Receipt` carrying the provider's RequestId, or a
//! `ProviderError` that carries it too whenever the server sent one.

pub mod http;
pub mod memory;
pub mod oceanbase;
pub mod tencent;
pub mod unavailable;

use crate::inventory::{Item, ProviderKind, Scope};
use crate::secret::Secret;
use async_trait::async_trait;
use serde::Serialize;
use std::fmt;

/// Why a call failed, coarse enough for retry decisions and plain-words hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The service answered with a business or parameter error (`Response.Error`, `success:false`).
    Api,
    /// Signature, expired timestamp, unknown key id, digest rejected.
    Auth,
    /// RequestLimitExceeded or HTTP 429.
    RateLimited,
    /// 5xx or InternalError: the service failed; the call may or may not have happened.
    Server,
    /// No answer in time.
    Timeout,
    /// Could not connect, or the connection dropped.
    Transport,
    /// The server answered something that is not the documented envelope.
    Protocol,
    /// Rejected locally before any call (bad secret format, unsupported operation).
    Invalid,
}

/// `ProviderError::code` of a transport failure before any byte of the request was sent
/// (connection refused, DNS, TLS handshake): the request certainly did not take effect.
pub const CONNECT_FAILED: &str = "ConnectFailed";

/// A failed call. `code` is the provider's error code (`ResourceIsInUse`...) or a
/// keyward code for local failures (`Transport`, `Timeout`, `Protocol`, `Invalid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            code: code.into(),
            message: message.into(),
            request_id: None,
        }
    }

    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    /// The same error with its message starting with the API action it came from
    /// (`DescribeKeyPairs: ...`), which a service's own message does not name: a listing
    /// makes several kinds of calls and the operator must know which one failed (a CAM
    /// policy may allow one action and not another). Unchanged when it already names it.
    pub fn in_action(mut self, action: &str) -> Self {
        if !self.message.starts_with(action) {
            self.message = format!("{action}: {}", self.message);
        }
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, "Invalid", message)
    }

    pub fn unsupported(what: &str, kind: ProviderKind) -> Self {
        Self::new(
            ErrorKind::Invalid,
            "Unsupported",
            format!("{} does not support {what}", kind.title()),
        )
    }

    /// Whether the call certainly did not take effect on the server, so repeating it is
    /// safe even for writes: the request was refused before any business logic ran, or
    /// the connection could not even be opened (code `CONNECT_FAILED`).
    pub fn certainly_not_applied(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited | ErrorKind::Auth | ErrorKind::Invalid)
            || (self.kind == ErrorKind::Transport && self.code == CONNECT_FAILED)
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (RequestId {id})")?;
        }
        Ok(())
    }
}

/// Proof that a call succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub request_id: String,
}

/// Result of one delete call, which for CVM covers up to 100 ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteReport {
    pub request_id: String,
    /// Ids confirmed gone.
    pub deleted: Vec<String>,
    /// Ids the service kept (bound to an instance or image), with the reason.
    pub kept: Vec<(String, String)>,
}

/// Result of a secret rotation. The new secret goes to the dialog only.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub receipt: Receipt,
    pub new_secret: Secret,
    /// The id of a new key, when rotating creates one beside the old (CAM's staged
    /// rotation); None when the key keeps its id and only its secret changes.
    pub new_id: Option<String>,
}

/// An operation keyward can ask of a kind of key. Whether a kind supports it, and under
/// which API action name, is that kind's provider module's rule ([`action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Delete,
    Disable,
    Enable,
    /// Rotate the secret (service-generated or custom).
    Rotate,
    /// Change the name (and description).
    Rename,
}

/// What the service does when asked to delete an item that has a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundDelete {
    /// It refuses the delete (API Gateway: `UnsupportedOperation.ResourceIsInUse`), so the
    /// planner skips the item instead of disabling it for a delete that cannot happen.
    Refused,
    /// It answers success and keeps the item (CVM key pairs bound to an instance or image);
    /// the provider reports which were kept.
    Kept,
    /// Not documented: the planner warns that the delete may fail.
    Unknown,
}

/// What a kind of key supports, so the planner, the key handler and the footer can ask
/// instead of comparing kinds. Each provider module defines its own from its action table
/// (see [`capabilities`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub enable_disable: bool,
    pub rotate: bool,
    pub rename: bool,
    /// Delete must be preceded by disable (API Gateway keys).
    pub delete_requires_disabled: bool,
    /// Max ids per delete call.
    pub delete_batch: usize,
    /// What a delete of a bound item does.
    pub bound_delete: BoundDelete,
    /// The error code the service answers for an id that does not exist (documented);
    /// a delete answered so for one id means the item is already gone.
    pub gone_code: Option<&'static str>,
    /// Rotation creates a new key beside the old one, and the old one is disabled and
    /// deleted in later steps the operator triggers (CAM); otherwise a rotation replaces
    /// the secret in one call.
    pub staged_rotation: bool,
    /// What the confirmation says once, in words, of a plan that deletes this kind
    /// (CAM: that the delete cannot be undone).
    pub delete_note: Option<&'static str>,
    /// A secret that should be replaced when old (`old` finding): API keys, access keys,
    /// MaaS keys; not SSH key pairs, whose private half keyward never sees.
    pub ages_out: bool,
    /// The service reports when a key was last used for every key, so an absent last use
    /// means never used (`never_used` finding, `unused>` filter on fresh keys). Where last
    /// use is only sometimes present, absence means unknown.
    pub reports_last_use: bool,
    /// What an item binds to, when the listing shows its bindings: an item of this kind
    /// bound to nothing is `unattached` (info).
    pub binds_to: Option<&'static str>,
}

impl Capabilities {
    /// Whether the kind supports `op` (every kind deletes).
    pub fn supports(&self, op: Operation) -> bool {
        match op {
            Operation::Delete => true,
            Operation::Disable | Operation::Enable => self.enable_disable,
            Operation::Rotate => self.rotate,
            Operation::Rename => self.rename,
        }
    }
}

/// What a kind of item supports, from its provider module (the one home of that rule):
/// the planner, the key handler and the footer ask here instead of comparing kinds.
pub fn capabilities(kind: ProviderKind) -> Capabilities {
    match kind {
        ProviderKind::ApiGateway => tencent::apigateway::CAPABILITIES,
        ProviderKind::Cvm => tencent::cvm::CAPABILITIES,
        ProviderKind::OceanBase => oceanbase::CAPABILITIES,
        ProviderKind::Cam => tencent::cam::CAPABILITIES,
    }
}

/// The API action that performs `op` on `kind`, as the log pane and the audit log name
/// it (`DeleteKeyPairs`, `DisableApiKey`, `DELETE /api/v2/maas/apikeys`), or `None` when
/// the kind does not support `op`.
pub fn action(kind: ProviderKind, op: Operation) -> Option<&'static str> {
    match kind {
        ProviderKind::ApiGateway => tencent::apigateway::action(op),
        ProviderKind::Cvm => tencent::cvm::action(op),
        ProviderKind::OceanBase => oceanbase::action(op),
        ProviderKind::Cam => tencent::cam::action(op),
    }
}

/// The new name `name` breaks `kind`'s naming rule: why, in one sentence. Kinds without
/// a rename accept any name here (the planner refuses the rename itself).
pub fn validate_new_name(kind: ProviderKind, name: &str) -> Result<(), String> {
    match kind {
        ProviderKind::Cvm => tencent::cvm::validate_key_pair_name(name),
        ProviderKind::ApiGateway | ProviderKind::OceanBase | ProviderKind::Cam => Ok(()),
    }
}

/// How a rejected input's first offending character is named in a message: quoted when
/// it prints as itself, as a code point otherwise, so a message never carries a control
/// character, an invisible one or a bidi override to the terminal.
pub(crate) fn describe_char(c: char) -> String {
    if c.is_ascii_graphic() || (!c.is_ascii() && c.is_alphanumeric()) {
        format!("'{c}'")
    } else if c == ' ' {
        "a space".to_string()
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// The kind, account and region (or OceanBase project) this provider serves; every
    /// item it lists carries this scope.
    fn scope(&self) -> &Scope;

    /// Something the operator should hear once about how this source is reached (a Tencent
    /// region with no documented region host, served through the nearest-access host).
    fn notice(&self) -> Option<String> {
        None
    }

    /// What this provider's kind supports: [`capabilities`] of its kind.
    fn capabilities(&self) -> Capabilities {
        capabilities(self.scope().kind)
    }

    /// Every item, all pages followed.
    async fn list(&self) -> Result<Vec<Item>, ProviderError>;

    /// The cheapest read that proves this source answers and takes the credentials: one
    /// call, the first entry of the first page (`keyward doctor`). A provider whose module
    /// knows no cheaper call lists everything; the receipt then has no RequestId.
    async fn probe(&self) -> Result<Receipt, ProviderError> {
        self.list().await.map(|_| Receipt {
            request_id: String::new(),
        })
    }

    /// Every item again after a run that sent calls for the ids `touched`, when the scope
    /// held `previous` before it (the whole scope as last listed; empty when unknown). A
    /// provider whose full listing is costly re-reads only what keyward's own calls can
    /// have changed and keeps the rest from `previous`; by default this is [`list`](Self::list).
    async fn refresh(&self, _touched: &[String], _previous: &[Item]) -> Result<Vec<Item>, ProviderError> {
        self.list().await
    }

    /// Delete at most `capabilities().delete_batch` ids in one call.
    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError>;

    async fn disable(&self, _id: &str) -> Result<Receipt, ProviderError> {
        Err(ProviderError::unsupported("disable", self.scope().kind))
    }

    async fn enable(&self, _id: &str) -> Result<Receipt, ProviderError> {
        Err(ProviderError::unsupported("enable", self.scope().kind))
    }

    /// Rotate a secret: `None` lets the service generate one.
    async fn rotate(&self, _id: &str, _custom: Option<&Secret>) -> Result<Rotated, ProviderError> {
        Err(ProviderError::unsupported("secret rotation", self.scope().kind))
    }

    async fn rename(&self, _id: &str, _name: &str, _description: Option<&str>) -> Result<Receipt, ProviderError> {
        Err(ProviderError::unsupported("rename", self.scope().kind))
    }
}
