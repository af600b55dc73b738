//! Tencent Cloud API 3.0: the TC3 signer, the JSON client and the two services keyward manages.

pub mod apigateway;
pub mod cam;
pub mod client;
pub mod cvm;
pub mod endpoint;
pub mod organization;
mod page;
pub mod sign;
pub mod sts;
pub mod throttle;
