// MathJax 3 configuration for the book. Loaded before the vendored MathJax file.
// Only elements that carry math are scanned: arithmatex output in the chapters and
// the Markdown cells of the executed lab notebooks (which keep $...$ delimiters).
// MathJax passes "ignore" on to the descendants of an ignored element, and an element
// of processHtmlClass clears it for its own subtree. Ignoring Material's page
// containers (not every class, as ".*|" would) keeps the notebook cells' paragraphs,
// which have no class, inside the processed subtree.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams",
  },
  options: {
    ignoreHtmlClass: "md-header|md-container|md-dialog|md-search",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown",
    // The accessibility explorer would load extra files; the book does not ship them.
    enableMenu: false,
  },
  svg: { fontCache: "global" },
  startup: {
    pageReady: () => MathJax.startup.defaultPageReady().then(() => {
      document.documentElement.dataset.mathTypeset = "done";
    }),
  },
};

// Material's instant navigation swaps the page content without a reload, so typeset
// again after every page change. Chaining on startup.promise keeps typesetting calls
// in order and waits for MathJax to finish starting on the first page.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) {
      return;  // MathJax has not loaded yet: its own start-up typesets this page.
    }
    delete document.documentElement.dataset.mathTypeset;
    MathJax.startup.promise = MathJax.startup.promise
      .then(() => {
        MathJax.typesetClear();
        MathJax.texReset();
        return MathJax.typesetPromise();
      })
      .then(() => {
        document.documentElement.dataset.mathTypeset = "done";
      });
  });
}
