/* vanban embeddable search widget.
 *
 * On a portal page:
 *   <div data-vanban-search data-unit="000.46.24.H44" data-filters="type,year"
 *        data-color="#0b4f9c" data-per-page="10"></div>
 *   <script src="https://REGISTRY/embed.js" async></script>
 *
 * It calls the registry's JSON API cross-origin (CORS) and renders results with
 * textContent, so nothing from the API is ever interpreted as HTML except the snippet,
 * which the server has already escaped and marked up with <mark> only.
 * The iframe variant (/embed/van-ban) posts {type: "vanban:resize", height}; this script
 * also resizes any iframe marked data-vanban-frame when it hears that message.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";

  var TYPES = ["Quyết định", "Nghị quyết", "Chỉ thị", "Kế hoạch", "Báo cáo", "Thông báo", "Công văn"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function vnDate(iso) {
    if (!iso) return "—";
    var p = iso.split("-");
    return p[2] + "/" + p[1] + "/" + p[0];
  }

  function mount(root) {
    if (root.getAttribute("data-vanban-mounted")) return;
    root.setAttribute("data-vanban-mounted", "1");
    var unit = root.getAttribute("data-unit") || "";
    var presetType = root.getAttribute("data-type") || "";
    var filters = (root.getAttribute("data-filters") || "").split(",").map(function (s) { return s.trim(); });
    var color = root.getAttribute("data-color") || "#a50e0e";
    var perPage = root.getAttribute("data-per-page") || "10";
    var api = root.getAttribute("data-api") || base;

    root.classList.add("vanban-widget");
    var style = el("style");
    style.textContent =
      ".vanban-widget{font-family:inherit;border:1px solid #ddd;padding:.75rem}" +
      ".vanban-widget form{display:flex;flex-wrap:wrap;gap:.4rem;margin-bottom:.5rem}" +
      ".vanban-widget input[type=search]{flex:1;min-width:12rem;padding:.4rem}" +
      ".vanban-widget button{background:" + color + ";color:#fff;border:0;padding:.4rem .8rem;cursor:pointer}" +
      ".vanban-widget ol{list-style:none;padding:0;margin:0}" +
      ".vanban-widget li{border-bottom:1px solid #eee;padding:.5rem 0}" +
      ".vanban-widget .vb-title{font-weight:bold;color:" + color + "}" +
      ".vanban-widget .vb-meta{color:#555;font-size:.9em}" +
      ".vanban-widget mark{background:#ffe58a}";
    root.appendChild(style);

    var form = el("form", { role: "search" });
    var label = el("label", { "class": "vb-label" });
    var input = el("input", { type: "search", name: "q", "aria-label": "Tìm văn bản",
      placeholder: "Tìm văn bản (gõ không dấu được)…" });
    label.appendChild(input);
    form.appendChild(label);
    var typeSelect = null;
    if (filters.indexOf("type") >= 0) {
      typeSelect = el("select", { name: "type", "aria-label": "Loại văn bản" });
      typeSelect.appendChild(el("option", { value: "" }, "Mọi loại"));
      TYPES.forEach(function (t) { typeSelect.appendChild(el("option", { value: t }, t)); });
      form.appendChild(typeSelect);
    }
    var yearInput = null;
    if (filters.indexOf("year") >= 0) {
      yearInput = el("input", { type: "number", name: "year", min: "1945", max: "2100",
        placeholder: "Năm", "aria-label": "Năm ban hành", style: "width:6rem" });
      form.appendChild(yearInput);
    }
    form.appendChild(el("button", { type: "submit" }, "Tìm"));
    root.appendChild(form);
    var status = el("p", { role: "status", "class": "vb-status" });
    root.appendChild(status);
    var list = el("ol", { "class": "vb-results" });
    root.appendChild(list);

    function search() {
      var params = new URLSearchParams();
      if (input.value.trim()) params.set("q", input.value.trim());
      if (unit) params.set("unit", unit);
      var type = typeSelect && typeSelect.value ? typeSelect.value : presetType;
      if (type) params.set("type", type);
      if (yearInput && yearInput.value) params.set("year", yearInput.value);
      params.set("per_page", perPage);
      status.textContent = "Đang tìm…";
      fetch(api + "/api/v1/documents?" + params.toString(), { headers: { Accept: "application/json" } })
        .then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) throw new Error(body && body.error ? body.error.message : "Lỗi " + r.status);
            return body;
          });
        })
        .then(render)
        .catch(function (e) { status.textContent = "Không tìm được: " + e.message; });
    }

    function render(body) {
      list.textContent = "";
      status.textContent = body.total === 0 ? "Không tìm thấy văn bản phù hợp."
        : "Tìm thấy " + body.total + " văn bản.";
      body.hits.forEach(function (hit) {
        var li = el("li", { "class": "vb-hit", "data-id": String(hit.id) });
        var title = [hit.doc_type, hit.number_symbol].filter(Boolean).join(" ") || ("Văn bản #" + hit.id);
        var a = el("a", { href: hit.url, target: "_blank", rel: "noopener", "class": "vb-title" }, title);
        li.appendChild(a);
        li.appendChild(el("div", { "class": "vb-abstract" }, hit.abstract || ""));
        li.appendChild(el("div", { "class": "vb-meta" },
          (hit.issuer || "—") + " · Ban hành " + vnDate(hit.issued_date) + " · Hiệu lực " + vnDate(hit.effective_date || hit.issued_date)));
        if (hit.snippet) {
          var s = el("div", { "class": "vb-snippet" });
          s.innerHTML = hit.snippet; // server-escaped; only <mark> is markup
          li.appendChild(s);
        }
        var dl = el("a", { href: hit.file_url, "class": "vb-download" }, "Tải văn bản");
        li.appendChild(dl);
        list.appendChild(li);
      });
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); search(); });
    search();
  }

  function mountAll() {
    var roots = document.querySelectorAll("[data-vanban-search]");
    for (var i = 0; i < roots.length; i++) mount(roots[i]);
  }

  window.addEventListener("message", function (e) {
    if (!e.data || e.data.type !== "vanban:resize") return;
    var frames = document.querySelectorAll("iframe[data-vanban-frame]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === e.source) frames[i].style.height = e.data.height + "px";
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
