// Like / dislike on each paper. On a page served by `papersift serve` a click goes
// straight into the store; elsewhere (a static host, a file) it is kept in this browser
// and "Export feedback" saves a file for `papersift feedback --import FILE`. On GitHub
// Pages (the page knows its repository) "Send to GitHub" opens a new issue holding the
// clicks; the next morning's run takes them into the store and closes it.
(function () {
  "use strict";
  // A site of several readers: each page is one reader's (data-profile), and so are
  // its clicks (kept apart in this browser, and named in what is exported or sent).
  var profile = document.body.getAttribute("data-profile");
  var KEY = "papersift-feedback" + (profile ? ":" + profile : "");
  var api = (document.body.getAttribute("data-root") || "") + "api/feedback";
  var live = false;

  function kept() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  function keep(all) {
    try { localStorage.setItem(KEY, JSON.stringify(all)); } catch (e) { /* private mode */ }
  }
  function show(id, like, note) {
    document.querySelectorAll('.verdict[data-id="' + CSS.escape(id) + '"]').forEach(function (group) {
      group.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String((b.dataset.verdict === "like") === like));
      });
      if (note !== undefined) group.querySelector(".saved").textContent = note;
      // A disliked paper folds away at once (its title and the buttons stay: Like
      // brings it back); the next run leaves it out of the page, feeds and Markdown.
      var article = group.closest("article.paper");
      if (article) {
        article.classList.toggle("disliked", !like);
        article.classList.toggle("liked", like);
      }
    });
  }
  function updateBar() {
    var bar = document.getElementById("feedback-bar");
    if (!bar) return;
    var count = Object.keys(kept()).length;
    bar.hidden = live || count === 0;
    var repository = document.body.getAttribute("data-github");
    bar.querySelector("#feedback-github").hidden = !repository;
    bar.querySelector("span").textContent = count + (count === 1 ? " verdict" : " verdicts") +
      " kept in this browser. " + (repository
        ? "Send them to GitHub: the next morning's run learns from them."
        : "Export them and run `papersift feedback --import FILE`.");
  }
  function exported() {
    var all = kept();
    var labels = Object.keys(all).map(function (id) {
      var label = {arxiv_id: id, like: all[id].like, title: all[id].title || "", at: all[id].at};
      if (profile) label.profile = profile;
      return label;
    });
    return JSON.stringify({format: "papersift-feedback", version: 1,
      exported_at: new Date().toISOString(), labels: labels}, null, 2);
  }
  function sendToGitHub() {
    var repository = document.body.getAttribute("data-github");
    var body = "Likes and dislikes from the papersift site; the next morning's run " +
      "takes them in and closes this issue.\n\n```json\n" + exported() + "\n```\n";
    window.open("https://github.com/" + repository + "/issues/new?title=" +
      encodeURIComponent("papersift feedback") + "&body=" + encodeURIComponent(body),
      "_blank", "noopener");
  }
  function exportFile() {
    var text = exported();
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
    link.download = "papersift-feedback.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  function keepLocally(id, like, title) {
    var all = kept();
    all[id] = {like: like, title: title, at: new Date().toISOString()};
    keep(all);
    show(id, like, "kept in this browser");
    updateBar();
  }
  function send(id, like, title) {
    fetch(api, {method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({arxiv_id: id, like: like, title: title})})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function () { show(id, like, "saved"); })
      .catch(function () { keepLocally(id, like, title); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-verdict]");
    if (button) {
      var group = button.closest(".verdict");
      var like = button.dataset.verdict === "like";
      if (live) send(group.dataset.id, like, group.dataset.title);
      else keepLocally(group.dataset.id, like, group.dataset.title);
    } else if (event.target.id === "feedback-export") {
      exportFile();
    } else if (event.target.id === "feedback-github") {
      sendToGitHub();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var local = kept();
    Object.keys(local).forEach(function (id) { show(id, local[id].like); });
    // live.js says whether `papersift serve` serves this page (a static host has the
    // built file saying no), so a static site never asks for an endpoint it lacks.
    if (!window.PAPERSIFT_LIVE) { updateBar(); return; }
    fetch(api, {headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; })
      .then(function (data) {
        if (data && data.labels) {
          live = true;
          Object.keys(data.labels).forEach(function (id) { show(id, data.labels[id]); });
        }
        updateBar();
      });
  });
})();
