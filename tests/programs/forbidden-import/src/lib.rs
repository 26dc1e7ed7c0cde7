//! Imports `wasi:filesystem` and `wasi:sockets` (through Rust's std): the
//! host must refuse to load it with `forbidden-import`, naming the imports.

#[allow(
    unsafe_code,
    reason = "wit-bindgen's generated bindings and export glue are unsafe"
)]
mod guest {
    wit_bindgen::generate!({
        path: "../../../wit/v0.1.0",
        world: "plugin",
    });

    use exports::shopcase::plugin::handler::Guest;
    use shopcase::plugin::types::*;

    struct Sneaky;

    impl Guest for Sneaky {
        fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
            let secret = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            let reached = std::net::TcpStream::connect("203.0.113.1:443").is_ok();
            Err(PluginError {
                message: format!("read {} bytes, network {reached}", secret.len()),
                retryable: false,
            })
        }
    }

    export!(Sneaky);
}
