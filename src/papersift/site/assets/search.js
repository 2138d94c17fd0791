// Search over the archive's index (each month's assets/search/YYYY-MM.js adds to
// window.PAPERSIFT_INDEX).
// Runs from any static host and from file://: no fetch(), no server.
(function () {
  "use strict";
  function fold(text) {
    return (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function render(list, items, root) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + item.u;
      a.textContent = item.t;
      li.appendChild(a);
      var meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = item.d + " · " + item.id + " · " + item.a;
      li.appendChild(meta);
      if (item.c) {
        var comment = document.createElement("div");
        comment.textContent = item.c;
        li.appendChild(comment);
      }
      list.appendChild(li);
    });
  }
  function search() {
    var params = new URLSearchParams(window.location.search);
    var query = params.get("q") || "";
    var box = document.getElementById("q");
    if (box) { box.value = query; }
    var status = document.getElementById("status");
    var list = document.getElementById("results");
    var root = document.body.getAttribute("data-root") || "";
    var terms = fold(query).split(/\s+/).filter(Boolean);
    if (!terms.length) { status.textContent = "Type a title word, an author, a topic or an arXiv id."; return; }
    var hits = (window.PAPERSIFT_INDEX || []).filter(function (item) {
      var hay = item.f || (item.f = fold([item.t, item.a, item.c, item.id, item.g].join(" ")));
      return terms.every(function (term) { return hay.indexOf(term) !== -1; });
    });
    status.textContent = hits.length + " paper" + (hits.length === 1 ? "" : "s") + " for \u201c" + query + "\u201d";
    render(list, hits.slice(0, 200), root);
  }
  document.addEventListener("DOMContentLoaded", search);
})();
