// The web book's search, with Pagefind (https://pagefind.app): its
// extended build segments Chinese, which mdBook's own index does not.
//
//   node scripts/web-book-search.mjs index BOOK_DIR...
//       writes BOOK_DIR/pagefind/ for each built book: every lesson page,
//       only its <main>, minus what the page marks `data-pagefind-ignore`
//       (hints, solutions, quiz answers, the banner). mdBook's own pages are
//       left out: print.html and index.html repeat the lessons, toc.html
//       and 404.html are not content.
//   node scripts/web-book-search.mjs query BOOK_DIR TERM
//       runs TERM through the book's built search (pagefind.js, the code a
//       browser runs) and prints the results as JSON: url, excerpt, content.
//       TERM `*` lists every indexed page.
//
// KUBELAB_PAGEFIND_DIR names the npm prefix where the `pagefind` package is
// installed (scripts/build-web-book.sh installs it); `query` needs only the
// built book.
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const MDBOOK_OWN_PAGES = new Set(["print.html", "index.html", "toc.html", "404.html"]);

function fail(message) {
    console.error(`web-book-search: ${message}`);
    process.exit(1);
}

async function pagefindModule() {
    if (!process.env.KUBELAB_PAGEFIND_DIR) {
        fail("KUBELAB_PAGEFIND_DIR is not set (scripts/build-web-book.sh sets it)");
    }
    const dir = resolve(process.env.KUBELAB_PAGEFIND_DIR);
    const require = createRequire(join(dir, "node_modules", "pagefind", "package.json"));
    // The extended binary, never the plain one: only it segments Chinese.
    // The npm wrapper would silently fall back to the plain one.
    const platform = process.platform === "win32" ? "windows" : process.platform;
    const exe = platform === "windows" ? "pagefind_extended.exe" : "pagefind_extended";
    let binary;
    try {
        binary = require.resolve(`@pagefind/${platform}-${process.arch}/bin/${exe}`);
    } catch {
        fail(`Pagefind's extended binary is not installed under ${dir} ` +
            `(npm package @pagefind/${platform}-${process.arch}); run scripts/build-web-book.sh`);
    }
    process.env.PAGEFIND_EXTENDED_BINARY_PATH = binary;
    const main = join(dir, "node_modules", "pagefind", "lib", "index.js");
    return import(pathToFileURL(main).href);
}

async function htmlPages(book, dir = book) {
    const pages = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const rel = relative(book, path).split(sep).join("/");
        if (entry.isDirectory() && rel !== "pagefind") {
            pages.push(...(await htmlPages(book, path)));
        } else if (entry.isFile() && rel.endsWith(".html") && !MDBOOK_OWN_PAGES.has(rel)) {
            pages.push({ path, rel });
        }
    }
    return pages.sort((a, b) => a.rel.localeCompare(b.rel));
}

async function index(books) {
    if (books.length === 0) fail("usage: index BOOK_DIR...");
    const pagefind = await pagefindModule();
    for (const book of books) {
        const { index, errors } = await pagefind.createIndex({ rootSelector: "main" });
        if (errors.length) fail(`${book}: ${errors.join("; ")}`);
        const pages = await htmlPages(book);
        if (pages.length === 0) fail(`${book}: no HTML pages; build the book first`);
        for (const page of pages) {
            const added = await index.addHTMLFile({
                url: `/${page.rel}`,
                content: await readFile(page.path, "utf8"),
            });
            if (added.errors.length) fail(`${page.path}: ${added.errors.join("; ")}`);
        }
        const written = await index.writeFiles({ outputPath: join(book, "pagefind") });
        if (written.errors.length) fail(`${book}: ${written.errors.join("; ")}`);
        console.error(`web-book-search: indexed ${pages.length} pages of ${book}`);
    }
    await pagefind.close();
}

async function query(book, term) {
    if (!book || term === undefined) fail("usage: query BOOK_DIR TERM");
    // pagefind.js fetches its index relative to basePath; serve it from disk.
    globalThis.fetch = async (input) => {
        const url = new URL(String(input), "http://book.invalid/");
        return new Response(await readFile(join(book, decodeURIComponent(url.pathname))));
    };
    const pf = await import(pathToFileURL(join(book, "pagefind", "pagefind.js")).href);
    await pf.options({ basePath: "/pagefind/" });
    const search = await pf.search(term === "*" ? null : term);
    const out = [];
    for (const result of search.results) {
        const d = await result.data();
        out.push({ url: d.url, excerpt: d.excerpt, content: d.content });
    }
    console.log(JSON.stringify(out));
}

const [command, ...args] = process.argv.slice(2);
if (command === "index") {
    await index(args);
} else if (command === "query") {
    await query(args[0], args[1]);
} else {
    fail("usage: index BOOK_DIR... | query BOOK_DIR TERM");
}
