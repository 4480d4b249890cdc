#!/bin/sh
# Builds both web books (lessons/zh, lessons/en) with mdBook, kubelab acting
# as the preprocessor, into target/web-book/{zh,en}, then runs the test that
# opens the built HTML (tests/web_book.rs) with mdbook required.
#
# mdBook: used from PATH if present, else installed with
# `cargo install mdbook --locked` (about 3 minutes on a 2-core machine, once;
# it lands in ~/.cargo/bin). Pin another version with MDBOOK_VERSION.
# Search: Pagefind's extended build from npm (needs node and npm), installed
# once into target/pagefind-VERSION (PAGEFIND_VERSION, KUBELAB_PAGEFIND_DIR).
#
# Usage: scripts/build-web-book.sh [OUT_DIR]
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/web-book}
mdbook_version=${MDBOOK_VERSION:-0.5.4}
PATH="$HOME/.cargo/bin:$PATH"

if ! command -v mdbook >/dev/null 2>&1; then
    echo "build-web-book: installing mdbook $mdbook_version (cargo install --locked)" >&2
    start=$(date +%s)
    cargo install mdbook --locked --version "$mdbook_version"
    echo "build-web-book: mdbook installed in $(( $(date +%s) - start )) s" >&2
fi
echo "build-web-book: $(mdbook --version)" >&2

# The preprocessor is `kubelab mdbook` (book.toml); put this tree's build
# first. The debug build is enough and shares artifacts with `cargo test`.
cargo build --bin kubelab
PATH="$root/target/debug:$PATH"
export PATH

for lang in zh en; do
    start=$(date +%s)
    mdbook build "$root/lessons/$lang" --dest-dir "$out/$lang"
    echo "build-web-book: $lang book in $out/$lang ($(( $(date +%s) - start )) s)" >&2
done

# Search: Pagefind's extended build, which segments Chinese (mdBook's own
# index, switched off in book.toml, does not), indexes each built book into
# BOOK/pagefind/. Installed once from npm into target/pagefind-VERSION (a few
# MB, seconds); pin another with PAGEFIND_VERSION. The test below reuses it.
pagefind_version=${PAGEFIND_VERSION:-1.6.0}
KUBELAB_PAGEFIND_DIR=${KUBELAB_PAGEFIND_DIR:-$root/target/pagefind-$pagefind_version}
export KUBELAB_PAGEFIND_DIR
if [ ! -f "$KUBELAB_PAGEFIND_DIR/node_modules/pagefind/package.json" ]; then
    command -v npm >/dev/null 2>&1 || {
        echo "build-web-book: npm and node are needed for the search index (apt-get install nodejs npm)" >&2
        exit 1
    }
    echo "build-web-book: installing pagefind $pagefind_version (npm)" >&2
    mkdir -p "$KUBELAB_PAGEFIND_DIR"
    npm install --prefix "$KUBELAB_PAGEFIND_DIR" --no-save --no-audit --no-fund \
        --ignore-scripts --loglevel=error "pagefind@$pagefind_version"
fi
start=$(date +%s)
node "$root/scripts/web-book-search.mjs" index "$out/zh" "$out/en"
echo "build-web-book: search indexes built ($(( $(date +%s) - start )) s)" >&2

# The content check: every written lesson's page has its text, its quiz
# questions, collapsed solutions and answers, and no raw front matter/fences.
KUBELAB_REQUIRE_MDBOOK=1 cargo test --test web_book -- --nocapture
