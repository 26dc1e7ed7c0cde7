//! The data directory and the database files are private to the host's
//! user: they hold every raw payload, with customers' personal data.
//!
//! - The data directory is created with mode 0700; an existing one that
//!   group or others can reach is tightened to 0700, and that is logged.
//!   A shared directory (sticky bit, like `/tmp`) is refused instead.
//! - `shopcase.db` is created by the host, before SQLite opens it, with
//!   mode 0600 set explicitly (not left to the umask). SQLite gives the
//!   WAL and shared-memory files it creates the mode of the database file;
//!   any of the three found with a looser mode (a database from before
//!   this rule, a copy) is set to 0600, and that is logged.

use std::path::Path;

/// The data directory's mode.
const DIR_MODE: u32 = 0o700;
/// The database, WAL and shared-memory files' mode.
const FILE_MODE: u32 = 0o600;

/// Create the data directory (0700) or tighten an existing one, and create
/// the database file (0600) if it does not exist yet.
pub(super) fn prepare(data_dir: &Path, db: &Path) -> std::io::Result<()> {
    create_dir(data_dir)?;
    tighten(data_dir, DIR_MODE, "data directory")?;
    create_private_file(db)?;
    Ok(())
}

/// Set the database file and its WAL and shared-memory files (those that
/// exist) to 0600, logging each one that was looser.
pub(super) fn tighten_db_files(db: &Path) -> std::io::Result<()> {
    tighten(db, FILE_MODE, "database file")?;
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        tighten(Path::new(&name), FILE_MODE, "database file")?;
    }
    Ok(())
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        // The umask may have taken bits away from 0600 (even the owner's):
        // set the mode itself.
        Ok(f) => f.set_permissions(std::fs::Permissions::from_mode(FILE_MODE)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Set `path` to `mode` if it exists with any other permission bits.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32, what: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let was = meta.permissions().mode() & 0o7777;
    if meta.is_dir() && was & 0o1000 != 0 {
        // A shared directory such as /tmp: tightening it would break the
        // machine, and leaving it would share the data.
        return Err(std::io::Error::other(format!(
            "{} is a shared directory (sticky bit, mode {was:04o}); give the host a data directory of its own",
            path.display()
        )));
    }
    if was != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tracing::warn!(
            path = %path.display(),
            was = format!("{was:04o}"),
            now = format!("{mode:04o}"),
            "storage: the {what} was readable beyond the host's user; tightened"
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _mode: u32, _what: &str) -> std::io::Result<()> {
    Ok(())
}
