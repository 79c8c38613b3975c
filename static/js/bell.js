// Keeps the bell's unread count fresh while the page stays open; the count works without it.
(function () {
  "use strict";
  var bell = document.querySelector(".bell[data-count-url]");
  if (!bell || !window.fetch) { return; }
  var badge = bell.querySelector("[data-bell-count]");
  var label = bell.querySelector("[data-bell-label]");
  function refresh() {
    if (document.hidden) { return; }
    fetch(bell.dataset.countUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        badge.textContent = data.unread;
        badge.hidden = data.unread === 0;
        bell.classList.toggle("bell-unread", data.unread > 0);
        if (label && data.label) { label.textContent = data.label; }
      })
      .catch(function () {});
  }
  setInterval(refresh, 30000);
  document.addEventListener("visibilitychange", refresh);
})();
