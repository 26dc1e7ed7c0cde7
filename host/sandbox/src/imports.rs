//! Which imports a plugin component may have.
//!
//! Checked at load time against the component's type, before anything is
//! instantiated: an import outside this list is refused with an error that
//! names it (`forbidden-import`). The linker defines nothing beyond it
//! either, so the two lists cannot drift apart silently (the test below
//! instantiates the allowed set).

/// WASI 0.2 interfaces a toolchain may import and the host provides, locked
/// down (see `wasi.rs`). Filesystem, sockets and HTTP are absent on purpose.
pub(crate) const ALLOWED_WASI: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// Why an import is refused.
pub(crate) fn check(name: &str, api: &str) -> Result<(), String> {
    let (iface, version) = match name.split_once('@') {
        Some((i, v)) => (i, Some(v)),
        None => (name, None),
    };
    if let Some(own) = iface.strip_prefix("shopcase:plugin/") {
        if version != Some(api) {
            return Err(format!(
                "`{name}`: the manifest says plugin API {api}, but the component imports {}",
                version.unwrap_or("an unversioned interface")
            ));
        }
        return match own {
            "host" | "types" => Ok(()),
            _ => Err(format!(
                "`{name}` is not an interface of shopcase:plugin@{api}"
            )),
        };
    }
    if ALLOWED_WASI.contains(&iface) {
        return match version {
            Some(v) if v.starts_with("0.2.") => Ok(()),
            _ => Err(format!("`{name}`: only WASI 0.2.x is provided")),
        };
    }
    let why = if iface.starts_with("wasi:filesystem/") {
        "plugins get no filesystem"
    } else if iface.starts_with("wasi:sockets/") || iface.starts_with("wasi:http/") {
        "plugins get no network"
    } else {
        "the host does not provide it"
    };
    Err(format!("`{name}` is not allowed: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check("shopcase:plugin/host@0.1.0", "0.1.0").is_ok());
        assert!(check("wasi:io/streams@0.2.6", "0.1.0").is_ok());
        assert!(check("wasi:cli/environment@0.2.0", "0.1.0").is_ok());
        let e = check("wasi:filesystem/preopens@0.2.0", "0.1.0").unwrap_err();
        assert_eq!(
            e,
            "`wasi:filesystem/preopens@0.2.0` is not allowed: plugins get no filesystem"
        );
        assert!(
            check("wasi:sockets/tcp@0.2.0", "0.1.0")
                .unwrap_err()
                .contains("no network")
        );
        assert!(
            check("wasi:io/streams@0.3.0", "0.1.0")
                .unwrap_err()
                .contains("0.2.x")
        );
        assert!(
            check("shopcase:plugin/host@0.2.0", "0.1.0")
                .unwrap_err()
                .contains("manifest says plugin API 0.1.0")
        );
        assert!(check("evil:thing/x", "0.1.0").is_err());
    }
}
