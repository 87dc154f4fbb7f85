// Live updates for the staff app: the server sends "changed" (server-sent events, polled from the
// database) and we re-fetch just the live part of the page, leaving forms being typed in alone.
(function () {
  "use strict";
  var live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) { return; }
  var refreshing = false;
  function refresh() {
    if (refreshing) { return; }
    refreshing = true;
    fetch(live.getAttribute("data-fragment"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null) { live.innerHTML = html; } })
      .finally(function () { refreshing = false; });
  }
  var source = new EventSource(live.getAttribute("data-events"));
  source.addEventListener("changed", refresh);
  source.addEventListener("error", function () {
    // The session may have ended: the browser retries; a 401 closes the stream for good.
    if (source.readyState === EventSource.CLOSED) { live.setAttribute("data-stream", "closed"); }
  });
})();
