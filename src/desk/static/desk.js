// The clerk desk's only script (served at /desk/static/desk.js?v=<hash>). Every page works
// without it; it adds keyboard moves in lists, "select all", a live selection count and
// confirm dialogs for destructive actions. No dependencies, no network calls.
(function () {
  "use strict";

  // Destructive forms: <form data-confirm="…"> asks first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  // Lists: <table data-keyed> whose rows carry a checkbox (name="id") and a link.
  var table = document.querySelector("table[data-keyed]");
  if (!table) {
    return;
  }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
  var all = document.querySelector("input[data-select-all]");
  var count = document.querySelector("[data-selected-count]");
  var current = -1;

  function boxOf(row) {
    return row.querySelector("input[type=checkbox][name=id]");
  }
  function refresh() {
    var n = 0;
    rows.forEach(function (row) {
      var box = boxOf(row);
      var on = !!(box && box.checked);
      row.classList.toggle("selected", on);
      if (on) { n += 1; }
    });
    if (count) { count.textContent = String(n); }
    if (all) {
      all.checked = n > 0 && n === rows.length;
      all.indeterminate = n > 0 && n < rows.length;
    }
  }
  function move(to) {
    if (!rows.length) { return; }
    if (current >= 0) { rows[current].classList.remove("current"); }
    current = Math.max(0, Math.min(rows.length - 1, to));
    var row = rows[current];
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
  }
  function setAll(on) {
    rows.forEach(function (row) {
      var box = boxOf(row);
      if (box) { box.checked = on; }
    });
    refresh();
  }

  if (all) {
    all.addEventListener("change", function () { setAll(all.checked); });
  }
  table.addEventListener("change", refresh);
  rows.forEach(function (row, i) {
    row.addEventListener("click", function (event) {
      if (event.target.tagName !== "A" && event.target.tagName !== "INPUT") { move(i); }
    });
  });

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toUpperCase();
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable) {
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var row = current >= 0 ? rows[current] : null;
    switch (event.key) {
      case "j": move(current + 1); break;
      case "k": move(current < 0 ? 0 : current - 1); break;
      case "x":
        if (row) {
          var box = boxOf(row);
          if (box) { box.checked = !box.checked; refresh(); }
        }
        break;
      case "a": {
        var anyOff = rows.some(function (r) { var b = boxOf(r); return b && !b.checked; });
        setAll(anyOff);
        break;
      }
      case "Enter": {
        var link = row && row.querySelector("a[href]");
        if (link) { window.location.href = link.href; } else { return; }
        break;
      }
      default: return;
    }
    event.preventDefault();
  });
  refresh();
})();
