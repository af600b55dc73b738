//! The integration tests, one binary (one link, one run) with a module per area, the way
//! ripgrep lays out its tests. `cargo test` runs them all; `cargo test app_e2e::` one module.

mod support;

mod app_e2e;
mod app_table_props;
mod app_update;
mod audit_log;
mod audit_recovery;
mod cli_completions;
mod config_credentials;
mod config_errors;
mod demo_inventory;
mod diagnostics_log;
mod doctor_info;
mod e2e_cam;
mod e2e_emulator;
mod emulator_access;
mod emulator_cam;
mod emulator_cli;
mod emulator_faults;
mod emulator_oceanbase;
mod emulator_tccli;
mod emulator_tencent;
mod ergonomics;
mod filter_props;
mod global_keys;
mod list_output;
mod oceanbase_api;
mod plan_apply;
mod props_tencent;
mod providers_emulator;
mod queue_exec;
mod queue_plan;
mod queue_plan_cam;
mod reliability;
mod signals;
mod tencent_apigateway;
mod tencent_cam;
mod tencent_client;
mod tencent_cvm;
mod tencent_roles;
mod ui_render;
