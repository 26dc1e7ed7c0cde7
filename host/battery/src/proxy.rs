//! A TCP proxy in front of each emulator: the host is configured with the
//! proxy's address, so the battery can take a service down the way a
//! network outage does — new connections are closed at once and the
//! connections the host already holds (its pooled keep-alive ones) are cut —
//! and bring it back, with the emulator's state intact behind it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context, Result};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A proxy to one upstream address.
#[derive(Debug)]
pub(crate) struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    down: AtomicBool,
    /// Bumped when the service goes down: every open connection ends.
    cut: watch::Sender<u64>,
    /// Connections refused while down.
    refused: AtomicU64,
}

impl Proxy {
    /// Listen on a fresh loopback port, forwarding to `upstream` (`host:port`).
    pub(crate) async fn start(upstream: &str) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream: SocketAddr = upstream
            .parse()
            .with_context(|| format!("upstream address `{upstream}`"))?;
        let (cut, _) = watch::channel(0);
        let state = Arc::new(State {
            down: AtomicBool::new(false),
            cut,
            refused: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, upstream, state.clone()));
        Ok(Proxy { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Take the service down: cut every connection, refuse new ones.
    pub(crate) fn down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        self.state.cut.send_modify(|n| *n += 1);
    }

    /// Bring it back.
    pub(crate) fn up(&self) {
        self.state.down.store(false, Ordering::SeqCst);
    }

    /// Connections refused while it was down.
    pub(crate) fn refused(&self) -> u64 {
        self.state.refused.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, state: Arc<State>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        if state.down.load(Ordering::SeqCst) {
            state.refused.fetch_add(1, Ordering::SeqCst);
            drop(inbound);
            continue;
        }
        let mut cut = state.cut.subscribe();
        tokio::spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                return;
            };
            let mut inbound = inbound;
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
