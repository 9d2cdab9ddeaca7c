// Desk uploads: drag and drop, one request per file with its upload progress, then the
// job's state polled from /desk/uploads/status until it is final. Without this script the
// form posts every file at once and the server answers with a results page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var input = document.getElementById("file-input");
  var zone = document.getElementById("drop-zone");
  var table = document.getElementById("upload-list");
  var tbody = table.querySelector("tbody");
  var queue = [];
  var polling = {}; // job id -> row
  var PARALLEL = 3;
  var active = 0;

  function cell(row, i) { return row.children[i]; }
  function text(el, s) { el.textContent = s; }

  function addFiles(files) {
    for (var i = 0; i < files.length; i++) {
      var row = document.createElement("tr");
      row.innerHTML = "<td></td><td><progress max='100' value='0'></progress></td><td>Chờ tải lên</td>";
      text(cell(row, 0), files[i].name);
      tbody.appendChild(row);
      queue.push({ file: files[i], row: row });
    }
    table.hidden = false;
  }

  function field(name) {
    var el = form.elements[name];
    if (!el) return "";
    if (el.type === "checkbox") return el.checked ? el.value : "";
    return el.value;
  }

  function send(item) {
    active++;
    var data = new FormData();
    data.append("csrf", field("csrf"));
    data.append("unit", field("unit"));
    if (field("publish")) data.append("publish", "1");
    data.append("files", item.file, item.file.name);
    var xhr = new XMLHttpRequest();
    var bar = item.row.querySelector("progress");
    var result = cell(item.row, 2);
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", field("csrf"));
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    };
    xhr.onload = function () {
      bar.value = 100;
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      var f = answer && answer.files && answer.files[0];
      if (f && f.accepted) {
        text(result, f.message);
        polling[f.job_id] = item.row;
      } else if (f) {
        result.className = "refused";
        text(result, f.message);
      } else {
        result.className = "refused";
        text(result, "Lỗi " + xhr.status + ": không tải lên được.");
      }
      done();
    };
    xhr.onerror = function () {
      result.className = "refused";
      text(result, "Mất kết nối khi tải lên; hãy thử lại.");
      done();
    };
    text(result, "Đang tải lên…");
    xhr.send(data);
  }

  function done() { active--; pump(); }

  function pump() {
    while (active < PARALLEL && queue.length) send(queue.shift());
  }

  function poll() {
    var ids = Object.keys(polling);
    if (!ids.length) return;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", "/desk/uploads/status?ids=" + ids.join(","));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) return;
      var jobs = JSON.parse(xhr.responseText).jobs || [];
      jobs.forEach(function (job) {
        var row = polling[job.id];
        if (!row) return;
        var result = cell(row, 2);
        result.textContent = job.label + (job.detail ? ": " + job.detail : "");
        if (job.document_url) {
          var a = document.createElement("a");
          a.href = job.document_url;
          a.textContent = " Xem văn bản";
          result.appendChild(a);
        }
        if (job.state === "failed") result.className = "refused";
        if (job["final"]) delete polling[job.id];
      });
    };
    xhr.send();
  }
  setInterval(poll, 1500);

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (input.files.length) addFiles(input.files);
    input.value = "";
    pump();
  });
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      addFiles(e.dataTransfer.files);
      pump();
    }
  });
})();
