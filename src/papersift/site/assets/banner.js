// The latest run's status on every page (status.js sets window.PAPERSIFT_STATUS; a new
// morning rewrites that one small file, not every page). Text only: never markup.
(function () {
  "use strict";
  var status = window.PAPERSIFT_STATUS;
  var box = document.getElementById("run-status");
  if (!status || !box) return;
  var labels = {digest: "Latest run", partial: "Latest run: partial",
                no_announcements: "Latest run: no announcements",
                upstream_failure: "Latest run: failed upstream"};
  // papersift writes UTC times: "2026-04-14T06:42:10+00:00" shows as "2026-04-14 06:42 UTC".
  var when = (status.finished_at || "").slice(0, 16).replace("T", " ") + " UTC";
  box.className = "run-status " + (labels[status.outcome] ? status.outcome : "");
  box.textContent = (labels[status.outcome] || "Latest run") + " · " + when + " · ";
  if (status.day && (status.outcome === "digest" || status.outcome === "partial")) {
    var link = document.createElement("a");
    var root = document.body.getAttribute("data-root") || "";
    link.href = root + status.day.slice(0, 7) + "/" + status.day + ".html";
    link.textContent = status.message;
    box.appendChild(link);
  } else {
    box.appendChild(document.createTextNode(status.message));
  }
  box.hidden = false;
})();
