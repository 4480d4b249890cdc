//! The error of `kubelab mdbook`, apart from the preprocessor so that its
//! parts (`mdbook_include`) can return it without importing `mdbook` back.

/// A chapter kubelab could not convert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdbookError {
    pub message: String,
}

impl std::fmt::Display for MdbookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MdbookError {}

pub(crate) fn err(message: impl Into<String>) -> MdbookError {
    MdbookError {
        message: message.into(),
    }
}
