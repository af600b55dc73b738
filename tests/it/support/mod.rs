//! Everything the tests share, one submodule per concern.

/// App and render fixtures: sources, an app loaded with items, key presses, log entries.
pub mod app;
/// Raw calls to the emulator: a TC3-signing caller and the demo's credentials.
pub mod emulator;
/// Driving the executor: fault-injecting and probing provider wrappers, an event collector.
pub mod exec;
/// The headless driver: the real runtime on a TestBackend, scripted keys, pastes and clock.
pub mod harness;
/// The one item builder.
pub mod items;
/// Account-global keys: one memory store every region of an account lists.
pub mod regions;
/// An in-process Tencent API 3.0 fake that verifies signatures and records requests.
pub mod tencent;
/// A TLS listener with a fresh self-signed certificate.
pub mod tls;
