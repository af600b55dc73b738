//! keyward: one terminal screen for the API keys and SSH key pairs an operator holds
//! across Tencent Cloud and OceanBase Cloud, with a confirmation-gated action queue.

pub mod app;
pub mod audit;
pub mod bench;
pub mod completions;
pub mod config;
pub mod demo;
pub mod diagnostics;
pub mod doctor;
pub mod emulator;
pub mod filter;
pub mod findings;
pub mod hints;
pub mod info;
pub mod inventory;
pub mod launch;
pub mod list;
pub mod panic_guard;
pub mod planfile;
pub(crate) mod private_file;
pub mod providers;
pub mod queue;
pub mod registry;
pub mod rotation;
pub(crate) mod runtime;
pub mod secret;
pub(crate) mod text;
pub mod times;
pub mod tui;
pub mod ui;
