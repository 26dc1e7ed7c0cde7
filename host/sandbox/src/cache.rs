//! The precompiled-component cache, and the key that vouches for it.
//!
//! A cached `.cwasm` is native code: loading one is trusting it. Each is
//! written with an HMAC-SHA256 tag (in `<file>.tag`) under a key kept
//! **outside the cache directory** — the host keeps it in its data
//! directory (`cache.key`, `0600`) — over the artifact's bytes and its file
//! name (the component's sha256 and the engine's compatibility hash). Write
//! access to the cache directory alone therefore cannot get code loaded:
//! a planted or swapped artifact (even a valid artifact of another
//! component, with a matching plain digest beside it) fails its tag and is
//! recompiled from the verified component. A runtime given no key makes
//! one for the process: its cache then serves that process only.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key that tags cache entries (32 random bytes). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

impl CacheKey {
    /// A fresh random key.
    pub fn random() -> CacheKey {
        CacheKey(rand::random())
    }

    /// The key in `path` (64 hex digits), created `0600` with a fresh key
    /// if there is none. A file that does not hold a key is replaced: the
    /// entries it vouched for are recompiled, nothing else is lost.
    pub fn load_or_create(path: &Path) -> std::io::Result<CacheKey> {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(bytes) = hex::decode(text.trim())
            && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(CacheKey(key));
        }
        let key = CacheKey::random();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        write_private(&tmp, hex::encode(key.0).as_bytes())?;
        std::fs::rename(&tmp, path)?;
        Ok(key)
    }

    /// The tag of `artifact` stored under `name`.
    fn tag(&self, name: &str, artifact: &[u8]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            // HMAC takes a key of any length; unreachable.
            return String::new();
        };
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(artifact);
        hex::encode(mac.finalize().into_bytes())
    }

    fn verify(&self, name: &str, artifact: &[u8], tag: &str) -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return false;
        };
        let Ok(tag) = hex::decode(tag.trim()) else {
            return false;
        };
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(artifact);
        // Constant time.
        mac.verify_slice(&tag).is_ok()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn tag_path(path: &Path) -> std::path::PathBuf {
    path.with_extension("cwasm.tag")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The cached artifact at `path`, if its tag vouches for it.
pub(crate) fn read(key: &CacheKey, path: &Path) -> Option<Vec<u8>> {
    let tag = std::fs::read_to_string(tag_path(path)).ok()?;
    let bytes = std::fs::read(path).ok()?;
    if key.verify(&file_name(path), &bytes, &tag) {
        Some(bytes)
    } else {
        tracing::warn!(path = %path.display(), "a cached component does not carry this host's tag (corrupt, planted, or from another key); recompiling");
        None
    }
}

/// Store `artifact` at `path` with its tag.
pub(crate) fn write(
    key: &CacheKey,
    dir: &Path,
    path: &Path,
    artifact: &[u8],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, artifact)?;
    std::fs::write(tag_path(path), key.tag(&file_name(path), artifact))?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_binds_the_bytes_the_name_and_the_key() {
        let k = CacheKey::random();
        let t = k.tag("a.cwasm", b"code");
        assert!(k.verify("a.cwasm", b"code", &t));
        assert!(!k.verify("a.cwasm", b"codf", &t), "other bytes");
        assert!(!k.verify("b.cwasm", b"code", &t), "another entry's name");
        assert!(
            !CacheKey::random().verify("a.cwasm", b"code", &t),
            "another key"
        );
        assert!(!k.verify("a.cwasm", b"code", "not hex"));
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/cache.key");
        let k1 = CacheKey::load_or_create(&path).unwrap();
        let k2 = CacheKey::load_or_create(&path).unwrap();
        assert_eq!(k1, k2, "the same key on the next start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&path, "garbage").unwrap();
        let k3 = CacheKey::load_or_create(&path).unwrap();
        assert_ne!(k3, k1, "a damaged key file is replaced");
        assert_eq!(format!("{k3:?}"), "CacheKey(..)");
    }
}
