// Keyboard use of the queue: j/k move, Enter opens. No inline script anywhere (CSP).
document.addEventListener("DOMContentLoaded", function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("selected");
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].classList.add("selected");
    rows[current].scrollIntoView({block: "nearest"});
  }
  rows.forEach(function (row) {
    row.addEventListener("click", function (event) {
      if (event.target.tagName !== "A") window.location = row.dataset.href;
    });
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j") select(current + 1);
    else if (event.key === "k") select(current - 1);
    else if (event.key === "Enter" && current >= 0) window.location = rows[current].dataset.href;
  });
});

// "X is viewing": the draft page says who else has it open, refreshed while it stays open.
document.addEventListener("DOMContentLoaded", function () {
  var notice = document.getElementById("viewing");
  if (!notice || !window.fetch) return;
  function refresh() {
    fetch(notice.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {viewers: []}; })
      .then(function (data) {
        var names = data.viewers || [];
        notice.hidden = names.length === 0;
        notice.textContent = names.length ? names.join(", ") + (names.length === 1 ? " is" : " are") + " viewing this draft." : "";
      })
      .catch(function () {});
  }
  window.setInterval(refresh, 20000);
});
