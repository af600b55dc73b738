//! The way tccli trusts the HTTPS emulator's CA. tccli's SDK verifies against certifi's
//! bundle and ignores `REQUESTS_CA_BUNDLE`, so a `sitecustomize.py` on `PYTHONPATH` points
//! `certifi.where()` at the file named by `KEYWARD_TCCLI_CA`, for the tccli processes
//! started with both variables only. `keyward emulator --tls` writes it beside the CA and
//! prints the command; scripts/tccli-smoke.sh runs tccli through the same file.

use std::path::{Path, PathBuf};

/// The variable the shim reads the CA path from: no path is baked into Python source, so
/// no quoting can break it, and the shim is inert without it.
pub const CA_VAR: &str = "KEYWARD_TCCLI_CA";

/// What goes into `sitecustomize.py`.
pub const SITECUSTOMIZE: &str = "\
# Written by `keyward emulator --tls`: makes certifi (and so tccli) trust the CA named
# by KEYWARD_TCCLI_CA. Without that variable it does nothing.
import os
_bundle = os.environ.get(\"KEYWARD_TCCLI_CA\")
if _bundle:
    import certifi
    certifi.where = lambda: _bundle
";

/// The shim's directory for a CA written to `cert`: beside it.
pub fn dir_for(cert: &Path) -> PathBuf {
    cert.with_file_name("keyward-tccli-shim")
}

/// Write the shim beside `cert`, returning its directory. Python runs whatever
/// `sitecustomize.py` is in that directory, and the default CA path is in the shared temp
/// dir, so the directory must be a real directory of this user's that nobody else can
/// write to: a planted one is refused, never written into.
pub fn write(cert: &Path) -> Result<PathBuf, String> {
    let dir = dir_for(cert);
    let refuse = |why: String| {
        format!(
            "cannot write the tccli shim to {}: {why}\n  fix: pass --cert-out FILE in a directory of your own",
            dir.display()
        )
    };
    match std::fs::symlink_metadata(&dir) {
        Ok(meta) => check_private_dir(&meta).map_err(refuse)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir(&dir).map_err(|e| refuse(e.to_string()))?
        }
        Err(e) => return Err(refuse(e.to_string())),
    }
    let file = dir.join("sitecustomize.py");
    super::write_no_follow(&file, SITECUSTOMIZE.as_bytes()).map_err(|e| refuse(e.to_string()))?;
    Ok(dir)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir)
}

#[cfg(unix)]
fn check_private_dir(meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if !meta.file_type().is_dir() {
        return Err("it exists and is not a directory (a link, or a file)".into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("it belongs to uid {}, not to you", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!("others can write to it (mode {:o})", meta.mode() & 0o777));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_dir(meta: &std::fs::Metadata) -> Result<(), String> {
    if meta.is_dir() {
        Ok(())
    } else {
        Err("it exists and is not a directory".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_shim_beside_the_certificate_and_again_over_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let cert = tmp.path().join("ca.pem");
        let dir = write(&cert).unwrap();
        assert_eq!(dir, tmp.path().join("keyward-tccli-shim"));
        let text = std::fs::read_to_string(dir.join("sitecustomize.py")).unwrap();
        assert_eq!(text, SITECUSTOMIZE);
        assert!(text.contains(CA_VAR));
        // A second emulator start reuses the directory it made.
        assert_eq!(write(&cert).unwrap(), dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_to_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let cert = tmp.path().join("ca.pem");
        let dir = dir_for(&cert);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = write(&cert).unwrap_err();
        assert!(err.contains("others can write") && err.contains("--cert-out"), "{err}");
        assert!(!dir.join("sitecustomize.py").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_in_place_of_the_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let cert = tmp.path().join("ca.pem");
        std::os::unix::fs::symlink(&elsewhere, dir_for(&cert)).unwrap();
        let err = write(&cert).unwrap_err();
        assert!(err.contains("not a directory"), "{err}");
        assert!(!elsewhere.join("sitecustomize.py").exists());
    }
}
