//! keyward: one terminal screen for the API keys and SSH key pairs an operator holds
//! across Tencent Cloud and OceanBase Cloud, with a confirmation-gated action queue.

pub mod audit;
pub mod config;
pub mod inventory;
pub mod list;
pub mod providers;
pub mod queue;
pub mod registry;
pub mod secret;
