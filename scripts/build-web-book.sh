#!/bin/sh
# Builds a course's web books with mdBook, kubelab acting as the
# preprocessor: every book (zh, en) of COURSE_DIR into OUT_DIR/{zh,en}.
#
# COURSE_DIR: a course folder as `kubelab --course` takes it (holding
# lessons/{zh,en}, {zh,en}, or one book with book.toml); default: the
# built-in course of this tree. OUT_DIR: default target/web-book (the
# built-in course) or target/web-book/<course folder name>.
#
# The course is linted first: a course whose lint has errors (an
# {{#include}} reaching outside the course, kubelab not running before
# mdBook's `links`, ...) is not built. For the built-in course the test
# that opens the built HTML (tests/web_book.rs) runs too, with mdbook
# required.
#
# mdBook: used from PATH if present, else installed with
# `cargo install mdbook --locked` (about 3 minutes on a 2-core machine, once;
# it lands in ~/.cargo/bin). Pin another version with MDBOOK_VERSION.
# Search: Pagefind's extended build from npm (needs node and npm), installed
# once into target/pagefind-VERSION (PAGEFIND_VERSION, KUBELAB_PAGEFIND_DIR).
#
# Usage: scripts/build-web-book.sh [COURSE_DIR [OUT_DIR]]
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -gt 2 ]; then
    echo "usage: scripts/build-web-book.sh [COURSE_DIR [OUT_DIR]]" >&2
    exit 2
fi
builtin=yes
course=$root
if [ $# -ge 1 ]; then
    if [ ! -d "$1" ]; then
        echo "build-web-book: $1: no such folder (give a course folder)" >&2
        exit 2
    fi
    course=$(cd "$1" && pwd)
    [ "$course" = "$root" ] || builtin=no
fi
if [ $# -ge 2 ]; then
    out=$2
elif [ $builtin = yes ]; then
    out=$root/target/web-book
else
    out=$root/target/web-book/$(basename "$course")
fi
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

# The books: COURSE/lessons/<lang>, COURSE/<lang>, or COURSE itself.
books=""
if [ -f "$course/book.toml" ]; then
    books=$course
else
    base=$course
    [ -d "$course/lessons" ] && base=$course/lessons
    for lang in zh en; do
        [ -f "$base/$lang/book.toml" ] && books="$books $base/$lang"
    done
fi
if [ -z "$books" ]; then
    echo "build-web-book: $course: no book (expected lessons/zh, zh/ or en/ with book.toml, or a book.toml here)" >&2
    exit 2
fi

echo "build-web-book: kubelab --course $course lint" >&2
kubelab --course "$course" lint

for book in $books; do
    name=$(basename "$book")
    start=$(date +%s)
    mdbook build "$book" --dest-dir "$out/$name"
    echo "build-web-book: $name book in $out/$name ($(( $(date +%s) - start )) s)" >&2
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
built=""
for book in $books; do built="$built $out/$(basename "$book")"; done
# shellcheck disable=SC2086 # one argument per built book
node "$root/scripts/web-book-search.mjs" index $built
echo "build-web-book: search indexes built ($(( $(date +%s) - start )) s)" >&2

# The content check: every written lesson's page has its text, its quiz
# questions, collapsed solutions and answers, and no raw front matter/fences.
if [ $builtin = yes ]; then
    KUBELAB_REQUIRE_MDBOOK=1 cargo test --test web_book -- --nocapture
fi
