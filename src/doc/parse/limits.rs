//! How much structure one lesson may have (see "Limits" in
//! lessons/README.md): the parser flattens nesting past these depths and
//! reports counts past these limits as errors.

use pulldown_cmark::{Tag, TagEnd};

/// Block containers (block quotes, lists) nested deeper than this are shown
/// flat: their content joins the enclosing container. The IR, and with it
/// every walk over it (layout, search, lint, the mdBook preprocessor), is
/// never deeper than this, whatever the input (`> ` × 10 000 would otherwise
/// overflow the stack). Documented in lessons/README.md, "Limits".
pub const MAX_BLOCK_NESTING: usize = 16;

/// Inline markup (emphasis, strong, strikethrough, links, images) nested
/// deeper than this is shown as its plain content.
pub const MAX_INLINE_NESTING: usize = 16;

/// `sh check` blocks in one lesson: the reader runs them all after every
/// command the learner types (2000 checks once ran a minute per round).
pub const MAX_CHECKS_PER_LESSON: usize = 50;

/// Fenced or indented code blocks (interactive or not) in one lesson: each
/// is highlighted and laid out again on every resize.
pub const MAX_CODE_BLOCKS_PER_LESSON: usize = 1000;

/// Block containers that nest: past [`MAX_BLOCK_NESTING`] they are flattened.
pub(super) fn is_container(tag: &Tag<'_>) -> bool {
    matches!(tag, Tag::BlockQuote(_) | Tag::List(_) | Tag::Item)
}

pub(super) fn is_container_end(tag: &TagEnd) -> bool {
    matches!(tag, TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item)
}
