//! The WASI subset for toolchains that import it, locked down.
//!
//! Plugins need no WASI for their logic; Rust's `wasm32-wasip2` std,
//! componentize-py and componentize-js import some anyway. The host links
//! only the interfaces in [`crate::imports::ALLOWED_WASI`], and the context
//! behind them gives:
//! - no arguments, no environment, no preopened directories, an empty stdin;
//! - stdout and stderr into the plugin's capped log buffer;
//! - a wall clock fixed at the event's `triggered-at` and a monotonic clock
//!   that never moves, so time cannot leak into (or vary) a plugin's output;
//!   waiting on that clock (a `sleep`) returns at once: the wait would run
//!   in host code, where neither fuel nor the epoch deadline can stop it;
//! - random bytes from a generator seeded by the event id, so the same event
//!   gives the same bytes;
//! - no network (sockets are not even linked).
//!
//! The context is built lazily, on the guest's first WASI call, so plugins
//! that import no WASI pay nothing for it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng as _;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream, WasiCli};
use wasmtime_wasi::clocks::WasiClocks;
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiView};
use wasmtime_wasi_io::poll::{Pollable, subscribe};
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

use crate::state::{LogSink, State};

/// Link the allowed WASI interfaces (and nothing else) into `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync};
    let l = linker;
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<State, HasIo>(l, |t| {
        t.wasi_view().table
    })?;
    sync::io::poll::add_to_linker::<State, HasIo>(l, |t| t.wasi_view().table)?;
    sync::io::streams::add_to_linker::<State, HasIo>(l, |t| t.wasi_view().table)?;
    clocks::wall_clock::add_to_linker::<State, WasiClocks>(
        l,
        <State as wasmtime_wasi::clocks::WasiClocksView>::clocks,
    )?;
    clocks::monotonic_clock::add_to_linker::<State, FrozenMonotonic>(l, |t| FrozenMonotonicView {
        table: t.wasi_view().table,
    })?;
    random::random::add_to_linker::<State, WasiRandom>(l, |t| t.wasi_view().ctx.random())?;
    random::insecure::add_to_linker::<State, WasiRandom>(l, |t| t.wasi_view().ctx.random())?;
    random::insecure_seed::add_to_linker::<State, WasiRandom>(l, |t| t.wasi_view().ctx.random())?;
    let cli_view = <State as wasmtime_wasi::cli::WasiCliView>::cli;
    cli::exit::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::environment::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::stdin::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::stdout::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::stderr::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::terminal_input::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::terminal_output::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::terminal_stdin::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::terminal_stdout::add_to_linker::<State, WasiCli>(l, cli_view)?;
    cli::terminal_stderr::add_to_linker::<State, WasiCli>(l, cli_view)?;
    Ok(())
}

struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

impl WasiView for State {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        self.wasi_view()
    }
}

/// Build the locked-down context for one invocation.
pub(crate) fn build_ctx(
    now_since_epoch: Duration,
    seed: u64,
    stdout: LogSink,
    stderr: LogSink,
) -> WasiCtx {
    let mut b = WasiCtx::builder();
    b.stdout(stdout)
        .stderr(stderr)
        .wall_clock(FixedWallClock(now_since_epoch))
        .monotonic_clock(FrozenMonotonicClock)
        .secure_random(rand::rngs::StdRng::seed_from_u64(seed))
        .insecure_random(rand::rngs::StdRng::seed_from_u64(
            seed ^ 0x9e37_79b9_7f4a_7c15,
        ))
        .insecure_random_seed(u128::from(seed))
        .max_random_size(64 << 10)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    b.build()
}

struct FixedWallClock(Duration);

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

struct FrozenMonotonicClock;

/// `wasi:clocks/monotonic-clock` as plugins get it: reads are
/// [`FrozenMonotonicClock`]'s, and a subscription (how a guest sleeps, or
/// polls with a timeout) is ready at once. wasmtime-wasi's own would wait
/// in real time inside `poll`, outside the reach of fuel and the deadline,
/// holding a sandbox slot for as long as the plugin asked.
struct FrozenMonotonic;

impl HasData for FrozenMonotonic {
    type Data<'a> = FrozenMonotonicView<'a>;
}

struct FrozenMonotonicView<'a> {
    table: &'a mut ResourceTable,
}

impl FrozenMonotonicView<'_> {
    fn elapsed(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let r = self.table.push(Elapsed)?;
        subscribe(self.table, r)
    }
}

impl monotonic_clock::Host for FrozenMonotonicView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(FrozenMonotonicClock.now())
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(FrozenMonotonicClock.resolution())
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed()
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.elapsed()
    }
}

/// A wait that is over.
struct Elapsed;

#[async_trait::async_trait]
impl Pollable for Elapsed {
    async fn ready(&mut self) {}
}

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl IsTerminal for LogSink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogSink {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

/// Writes never fail and never block: what exceeds the log cap is counted
/// and dropped, so a chatty plugin is not turned into a failing one.
#[async_trait::async_trait]
impl OutputStream for LogSink {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(4096)
    }
}

#[async_trait::async_trait]
impl Pollable for LogSink {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LogSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
