//! Live panes beside the lesson text: a shell in a PTY and inspectors that
//! show what the sandbox's namespaces and cgroups are doing.
//!
//! - [`pty`]: open/resize PTYs, start a host program on one (tests, fallback);
//! - [`session`]: a running PTY program, parsed by `vt100` off the UI task;
//! - [`shell`]: the shell pane widget (focus, scrollback, restart);
//! - [`keys`]: key events → terminal bytes, OSC 52 copy;
//! - [`kind`]: the pane names lessons use in front matter;
//! - [`inspect`]: inspector panes and their sampler thread;
//! - [`pods`]: the Pod pane (a node's or a cluster's Pods, one inspector);
//! - [`text`]: pane strings in the UI language.
//!
//! Focus rule: while a shell pane has focus every key goes to the program,
//! except [`keys::RELEASE_KEY`] (F6), which always gives focus back.
pub mod inspect;
pub mod keys;
pub mod kind;
pub mod pods;
pub mod pty;
pub mod session;
pub mod shell;
pub mod text;

/// A drawn buffer's rows as text, for the panes' unit tests.
#[cfg(test)]
pub(crate) fn buffer_rows(buf: &ratatui::buffer::Buffer) -> Vec<String> {
    let a = buf.area;
    (a.y..a.y + a.height)
        .map(|y| (a.x..a.x + a.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}
