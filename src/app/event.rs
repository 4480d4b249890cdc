//! Everything that can happen to the app arrives as one [`AppEvent`] on one
//! channel (docs/ARCHITECTURE.md, pattern 3).

use crossterm::event::{KeyEvent, MouseEvent};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub enum AppEvent {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Periodic wake-up (autosave, animations).
    Tick,
    /// The syntax highlighter finished loading: re-render code blocks.
    HighlightReady,
    /// Pane output or an inspector sample arrived; the panes side keeps the
    /// data and [`super::PaneHost::update`] decides whether to redraw.
    PaneDirty,
    /// SIGTERM / SIGHUP: restore the terminal and exit.
    Terminate,
    /// The input stream ended or failed.
    InputClosed,
    /// `kubelab preview`: the watched files changed and were re-loaded.
    Reload(super::preview_state::Reloaded),
}

/// Cloneable sender for [`AppEvent`]s (given to background tasks and panes).
#[derive(Debug, Clone)]
pub struct EventSender(pub(crate) mpsc::UnboundedSender<AppEvent>);

impl EventSender {
    /// Sends an event; a closed channel (app exiting) is ignored.
    pub fn send(&self, ev: AppEvent) {
        let _ = self.0.send(ev);
    }

    /// A `Fn()` that wakes the UI with [`AppEvent::PaneDirty`], for PTY
    /// readers and samplers.
    pub fn pane_notifier(&self) -> std::sync::Arc<dyn Fn() + Send + Sync> {
        let tx = self.0.clone();
        std::sync::Arc::new(move || {
            let _ = tx.send(AppEvent::PaneDirty);
        })
    }
}

pub fn channel() -> (EventSender, mpsc::UnboundedReceiver<AppEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (EventSender(tx), rx)
}
