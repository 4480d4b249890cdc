//! What the node's two sockets (`node.sock`, `metrics.sock`) share: one
//! thread per connection, at most [`MAX_CONNECTIONS`] at once (a further
//! one gets the protocol's "busy" answer and is closed), and a handle whose
//! drop stops accepting — even when the socket's file is gone — and removes
//! the socket.

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Connections served at once; more get the "busy" answer.
pub const MAX_CONNECTIONS: usize = 32;

/// A serving socket; dropping it stops accepting and removes the socket.
pub struct Listening {
    path: PathBuf,
    /// The listening socket, to wake the blocking accept even when the
    /// socket's file is gone (a removed state directory).
    listener: UnixListener,
    stop: Arc<AtomicBool>,
    join: Option<std::thread::JoinHandle<()>>,
}

impl Listening {
    /// Accepts on `listener` (bound at `path`): `serve` gets each
    /// connection on its own thread, with the stop flag; `busy` answers
    /// one over the limit.
    pub fn start(
        listener: UnixListener,
        path: PathBuf,
        busy: fn(&mut UnixStream),
        serve: impl Fn(UnixStream, &AtomicBool) + Send + Sync + 'static,
    ) -> std::io::Result<Listening> {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let waker = listener.try_clone()?;
        let serve = Arc::new(serve);
        let join = std::thread::spawn(move || accept_loop(listener, &s, busy, serve));
        Ok(Listening {
            path,
            listener: waker,
            stop,
            join: Some(join),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept: shutdown(2) of a listening socket makes
        // accept fail at once on Linux; connecting covers other kernels.
        let _ = rustix::net::shutdown(&self.listener, rustix::net::Shutdown::Read);
        let _ = UnixStream::connect(&self.path);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn accept_loop<F>(
    listener: UnixListener,
    stop: &Arc<AtomicBool>,
    busy: fn(&mut UnixStream),
    serve: Arc<F>,
) where
    F: Fn(UnixStream, &AtomicBool) + Send + Sync + 'static,
{
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut conn) = conn else { continue };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            busy(&mut conn);
            continue;
        }
        let (active, stop, serve) = (active.clone(), stop.clone(), serve.clone());
        std::thread::spawn(move || {
            serve(conn, &stop);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}
