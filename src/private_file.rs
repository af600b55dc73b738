//! The one rule for the files keyward appends to and only its user may read (the audit
//! log, the diagnostics log): created 0600 with their parent directories, an existing one
//! readable by others tightened to 0600, and a symbolic link at the path refused, not
//! followed (`O_NOFOLLOW`, checked by the kernel at open, so nothing can swap the link in
//! between a check and the open): whoever planted it would otherwise get the log appended
//! to, and the chmod applied to, a file of their choosing. Anything but a regular file is
//! refused too.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Why the file could not be opened; callers say which file it is.
#[derive(Debug)]
pub enum OpenError {
    CreateDir { path: PathBuf, source: io::Error },
    Open { path: PathBuf, source: io::Error },
    Symlink { path: PathBuf },
    NotAFile { path: PathBuf },
}

/// How a private file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Appends (and reads back): logs.
    Append,
    /// Reads and writes anywhere: a lock file that holds state.
    ReadWrite,
}

/// Open `path` for appending under the rule above, creating its parent directories.
pub fn open_append(path: &Path) -> Result<File, OpenError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| OpenError::CreateDir {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    open(path, Access::Append)
}

/// Open (creating) `path` under the rule above; the parent directory must exist.
pub fn open(path: &Path, access: Access) -> Result<File, OpenError> {
    let mut options = OpenOptions::new();
    options.read(true).create(true);
    match access {
        Access::Append => options.append(true),
        Access::ReadWrite => options.write(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let open_err = |source| OpenError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = options.open(path).map_err(|source| {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            OpenError::Symlink {
                path: path.to_path_buf(),
            }
        } else {
            open_err(source)
        }
    })?;
    if !file.metadata().map_err(open_err)?.is_file() {
        return Err(OpenError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(open_err)?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(open_err)?;
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn creates_private_files_tightens_open_ones_and_refuses_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/log");
        open_append(&path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_append(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(matches!(open_append(&link), Err(OpenError::Symlink { .. })));
        assert!(matches!(
            open_append(dir.path()),
            Err(OpenError::NotAFile { .. }) | Err(OpenError::Open { .. })
        ));
    }
}
