#!/bin/sh
# Screenshots of the web book for a reviewer: zh lesson 05 (box diagrams
# with Chinese text), en lesson 00, and a Chinese search (`进程`) in the zh
# book, taken with headless Chromium into target/web-book-screenshots/.
# Then every box diagram with Chinese text in the zh book is measured in the
# same Chromium: each line must be exactly as wide as its terminal columns
# (CJK two, the rest one) times half an em; the script fails if one is not.
#
# Uses the books in target/web-book (scripts/build-web-book.sh builds them;
# this script runs it when they are missing). Needs Debian's `chromium` and,
# for the diagrams to line up, `fonts-noto-cjk` (see lessons/*/web/kubelab.css).
# Pages are served by python3 on 127.0.0.1 only, because Pagefind's search
# fetches its index and a file:// page may not.
#
# Usage: scripts/web-book-screenshots.sh [BOOK_DIR]   (default target/web-book)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
books=${1:-$root/target/web-book}
shots=$root/target/web-book-screenshots

command -v chromium >/dev/null 2>&1 || {
    echo "web-book-screenshots: chromium not found; apt-get install chromium fonts-noto-cjk" >&2
    exit 1
}
fc-list 2>/dev/null | grep -q "Noto Sans Mono CJK" ||
    echo "web-book-screenshots: warning: fonts-noto-cjk is not installed; Chinese box diagrams will not line up" >&2
if [ ! -f "$books/zh/05-process.html" ] || [ ! -f "$books/en/00-opening.html" ]; then
    sh "$root/scripts/build-web-book.sh"
fi
mkdir -p "$shots"

tmp=$(mktemp -d /tmp/kubelab-shots.XXXXXX)
server=
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The site: the books, plus the diagram-measuring page below.
mkdir -p "$tmp/site"
ln -s "$books" "$tmp/site/book"
cp "$root/scripts/web-book-diagrams.html" "$tmp/site/diagrams.html"

# A static server on 127.0.0.1; the port it got is written to a file.
python3 - "$tmp/site" "$tmp/port" >"$tmp/server.log" 2>&1 <<'PY' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
import os; os.rename(sys.argv[2] + ".tmp", sys.argv[2])
httpd.serve_forever()
PY
server=$!
tries=0
while [ ! -s "$tmp/port" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "web-book-screenshots: the local server did not start:" >&2
        cat "$tmp/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
base="http://127.0.0.1:$(cat "$tmp/port")"

shot() { # NAME URL HEIGHT
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run \
        --user-data-dir="$tmp/profile-$1" --hide-scrollbars --window-size="1280,$3" \
        --virtual-time-budget=15000 --screenshot="$shots/$1.png" "$2" >"$tmp/chromium-$1.log" 2>&1 || {
        echo "web-book-screenshots: chromium failed for $2:" >&2
        cat "$tmp/chromium-$1.log" >&2
        exit 1
    }
    echo "web-book-screenshots: $shots/$1.png" >&2
}

shot zh-05-process "$base/book/zh/05-process.html" 2400
shot en-00-opening "$base/book/en/00-opening.html" 2400
# kubelab.js opens the search box with the query from `#search=`.
shot zh-search "$base/book/zh/05-process.html#search=%E8%BF%9B%E7%A8%8B" 1000

# The diagrams, measured: diagrams.html fetches each page, lays its box
# diagrams out with the book's CSS and writes the verdict into the DOM.
query=
for page in "$books"/zh/[0-9]*.html; do
    query="$query&page=book/zh/$(basename "$page")"
done
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$tmp/profile-diagrams" --virtual-time-budget=20000 \
    --dump-dom "$base/diagrams.html?${query#&}" >"$tmp/diagrams.dom" 2>"$tmp/chromium-diagrams.log" || {
    echo "web-book-screenshots: chromium failed measuring diagrams:" >&2
    cat "$tmp/chromium-diagrams.log" >&2
    exit 1
}
verdict=$(python3 -c 'import html, re, sys
m = re.search(r"<pre id=\"verdict\">(.*?)</pre>", open(sys.argv[1], encoding="utf-8").read(), re.S)
print(html.unescape(m.group(1)) if m else "MISALIGNED: no verdict in the page")' "$tmp/diagrams.dom")
echo "web-book-screenshots: $verdict" >&2
case $verdict in
    "ok:"*) ;;
    *) exit 1 ;;
esac
