// kubelab's web book: a few behaviours for what `kubelab mdbook` puts on a
// page (src/commands/mdbook_render.rs). Loaded by book.toml
// `additional-js`; plain JavaScript, no framework. lessons/zh/web and
// lessons/en/web hold the same file (tests/web_book.rs checks they agree).
//  - quizzes answerable on the page, the explanation shown after a choice;
//  - the search box: Pagefind (scripts/build-web-book.sh builds its index,
//    which segments Chinese), in place of mdBook's search (off in book.toml);
//  - answers, solutions and hints opened for printing;
//  - in the Chinese book, mdBook's interface words in Chinese.
(function () {
    "use strict";
    var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
    var T = zh ? {
        right: "答对了。", wrong: "不对，再想想；答案和解释在下面。",
        search: "搜索", searchMissing: "搜索索引还没有生成：用 scripts/build-web-book.sh 构建本书。"
    } : {
        right: "Right.", wrong: "Not quite; the answer and why are below.",
        search: "Search", searchMissing: "The search index is not built: build the book with scripts/build-web-book.sh."
    };
    var root = typeof path_to_root === "string" ? path_to_root : "";

    // --- Quizzes -----------------------------------------------------------
    function setUpQuiz(quiz) {
        var answer = quiz.querySelector("details.kubelab-quiz-answer");
        var list = quiz.querySelector("ul");
        if (!answer || !list) return;
        var right = (answer.getAttribute("data-answer") || "").charCodeAt(0) - 65;
        var choices = Array.prototype.filter.call(list.children, function (li) {
            return li.tagName === "LI";
        });
        var verdict = document.createElement("p");
        verdict.className = "kubelab-verdict";
        verdict.setAttribute("role", "status");
        list.after(verdict);
        choices.forEach(function (li, i) {
            li.className = "kubelab-choice";
            li.tabIndex = 0;
            li.setAttribute("role", "button");
            function choose() {
                choices.forEach(function (c) { c.classList.remove("kubelab-right", "kubelab-wrong"); });
                li.classList.add(i === right ? "kubelab-right" : "kubelab-wrong");
                choices[right] && choices[right].classList.add("kubelab-right");
                verdict.textContent = i === right ? T.right : T.wrong;
                answer.open = true;
            }
            li.addEventListener("click", choose);
            li.addEventListener("keydown", function (e) {
                if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); }
            });
        });
    }

    // --- Printing: everything collapsed is opened -------------------------
    function openAll() {
        document.querySelectorAll("main details").forEach(function (d) { d.open = true; });
    }
    window.addEventListener("beforeprint", openAll);

    // --- Search (Pagefind) ------------------------------------------------
    var panel = null;
    function loadPagefind(done) {
        var css = document.createElement("link");
        css.rel = "stylesheet";
        css.href = root + "pagefind/pagefind-ui.css";
        document.head.appendChild(css);
        var s = document.createElement("script");
        s.src = root + "pagefind/pagefind-ui.js";
        s.onload = function () {
            new window.PagefindUI({ element: "#kubelab-search", showSubResults: true, showImages: false });
            done(true);
        };
        s.onerror = function () { done(false); };
        document.head.appendChild(s);
    }
    // Types `term` into Pagefind's box once the box exists, as a reader would.
    function typeInto(term, tries) {
        var input = panel.querySelector("input");
        if (!input) {
            if (tries > 0) setTimeout(function () { typeInto(term, tries - 1); }, 100);
            return;
        }
        input.value = term;
        input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    // `#search=TERM` in the address opens the box with TERM searched.
    function toggleSearch(term) {
        if (!panel) {
            panel = document.createElement("div");
            panel.id = "kubelab-search";
            panel.setAttribute("role", "search");
            document.body.appendChild(panel);
            loadPagefind(function (ok) {
                if (!ok) panel.textContent = T.searchMissing;
                if (ok && typeof term === "string") typeInto(term, 50);
                var input = panel.querySelector("input");
                if (input) input.focus();
            });
        }
        var open = panel.classList.toggle("open");
        var input = panel.querySelector("input");
        if (open && input) input.focus();
    }
    function addSearchButton() {
        var bar = document.querySelector("#mdbook-menu-bar .left-buttons");
        if (!bar) return;
        var b = document.createElement("button");
        b.className = "icon-button";
        b.type = "button";
        b.id = "kubelab-search-toggle";
        b.title = T.search + " (/)";
        b.setAttribute("aria-label", T.search);
        b.innerHTML = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="16" height="16" fill="currentColor" aria-hidden="true"><path d="M416 208c0 45.9-14.9 88.3-40 122.7l126.6 126.7a32 32 0 0 1-45.3 45.3L330.7 376c-34.4 25.2-76.8 40-122.7 40C93.1 416 0 322.9 0 208S93.1 0 208 0s208 93.1 208 208zM208 352a144 144 0 1 0 0-288 144 144 0 1 0 0 288z"/></svg>';
        b.addEventListener("click", function () { toggleSearch(); });
        bar.appendChild(b);
        document.addEventListener("keydown", function (e) {
            var t = e.target;
            if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) {
                if (e.key === "Escape" && panel) panel.classList.remove("open");
                return;
            }
            if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); toggleSearch(); }
            if (e.key === "Escape" && panel) panel.classList.remove("open");
        });
    }

    // --- mdBook's interface words in Chinese ------------------------------
    var ZH = {
        "Toggle Table of Contents": "显示/隐藏目录", "Change theme": "更换主题", "Themes": "主题",
        "Print this book": "打印本书", "Previous chapter": "上一课", "Next chapter": "下一课",
        "Page navigation": "翻页", "Table of contents": "目录",
        "Auto": "自动", "Light": "浅色", "Rust": "Rust", "Coal": "深灰", "Navy": "深蓝", "Ayu": "Ayu",
        "Note": "注意", "Tip": "提示", "Important": "重要", "Warning": "警告", "Caution": "小心"
    };
    function translate() {
        document.querySelectorAll("[title],[aria-label]").forEach(function (el) {
            ["title", "aria-label"].forEach(function (a) {
                var v = el.getAttribute(a);
                if (v && ZH[v]) el.setAttribute(a, ZH[v]);
            });
        });
        document.querySelectorAll("#mdbook-theme-list button, .blockquote-tag-title").forEach(function (el) {
            el.childNodes.forEach(function (n) {
                var v = n.nodeType === 3 ? n.nodeValue.trim() : "";
                if (v && ZH[v]) n.nodeValue = ZH[v];
            });
        });
    }

    function start() {
        document.querySelectorAll(".kubelab-quiz").forEach(setUpQuiz);
        addSearchButton();
        if (zh) translate();
        var m = /^#search=(.+)$/.exec(location.hash);
        if (m) toggleSearch(decodeURIComponent(m[1]));
        // print.html prints itself on load: open the answers first.
        if (/(^|\/)print\.html$/.test(location.pathname)) openAll();
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
