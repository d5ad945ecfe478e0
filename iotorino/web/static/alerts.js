// Keeps an alert page honest while it stays open: every 30 s it reads the page's JSON twin and, when the alerts
// changed (the server's `signature` of what is shown differs), reveals the [data-alert-updated] notice
// (role=status) with a link that reloads the page. Nothing reloads by itself; without JavaScript the page is as served.
(function () {
  "use strict";
  var EVERY_MS = 30000;
  function watchers() { return Array.prototype.slice.call(document.querySelectorAll("[data-alert-watch]")); }
  function check() {
    return Promise.all(watchers().map(function (box) {
      return fetch(box.dataset.alertWatch, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var now = (data.alerts || data).signature;
          var notice = box.querySelector("[data-alert-updated]");
          if (notice && now && now !== box.dataset.alertSignature) { notice.hidden = false; }
        })
        .catch(function () { /* the server is away: the page keeps what it shows */ });
    }));
  }
  window.iotorinoAlertCheck = check;
  if (watchers().length) { window.setInterval(check, EVERY_MS); }
}());
