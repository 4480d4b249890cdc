//! Errors that name the field at fault and what to do about it.

use crate::spec::SpecError;
use serde::{Deserialize, Serialize};

/// Exit code for kubelab's own failures (bad spec, setup failed), like `docker run`.
pub const EXIT_SETUP_FAILED: i32 = 125;
/// Exit code when the command exists but cannot be executed.
pub const EXIT_CANNOT_EXEC: i32 = 126;
/// Exit code when the command is not found inside the sandbox.
pub const EXIT_NOT_FOUND: i32 = 127;

/// A sandbox error: which field or stage failed, and a message that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Error {
    /// The spec field or setup stage (`rootfs`, `limits.memory`, `command`, `spawn`, ...).
    pub field: String,
    pub message: String,
    /// The exit code `kubelab run` uses for this error.
    pub exit_code: i32,
}

impl Error {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error {
            field: field.into(),
            message: message.into(),
            exit_code: EXIT_SETUP_FAILED,
        }
    }

    pub fn with_code(mut self, code: i32) -> Error {
        self.exit_code = code;
        self
    }

    pub fn io(field: impl Into<String>, what: impl std::fmt::Display, e: std::io::Error) -> Error {
        Error::new(field, format!("{what}: {e}"))
    }
}

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Error {
        Error::new(e.field, e.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
