// newstrace report: client-side article search over the JSON index. DOM built with textContent only, so no
// article string is ever parsed as HTML. Index rows: [id, title, outlet, date, anchor, flags].
(function () {
  "use strict";
  var data = document.getElementById("article-index");
  var table = document.getElementById("article-results");
  if (!data || !table) { return; }
  var rows = JSON.parse(data.textContent);
  var q = document.getElementById("q"), outlet = document.getElementById("outlet");
  var onlyFindings = document.getElementById("findings"), hits = document.getElementById("hits");
  var pager = document.getElementById("article-pager"), body = table.tBodies[0];
  var PAGE = 50, page = 0, shown = rows;
  var anchorOk = /^a-[0-9a-f]{12}$/;
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function render() {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    var start = page * PAGE, end = Math.min(shown.length, start + PAGE);
    for (var i = start; i < end; i++) {
      var r = shown[i], tr = document.createElement("tr");
      cell(tr, r[3] || "no date", "small");
      cell(tr, r[2] || "");
      var td = cell(tr, "");
      if (r[4] && anchorOk.test(r[4])) {
        var a = document.createElement("a");
        a.href = "#" + r[4];
        a.textContent = r[1] || r[0];
        td.appendChild(a);
      } else { td.textContent = r[1] || r[0]; }
      cell(tr, [r[5] & 1 ? "in a family" : "", r[5] & 2 ? "injected phrase" : ""].filter(Boolean).join(", "), "small");
      body.appendChild(tr);
    }
    hits.textContent = shown.length + " article" + (shown.length === 1 ? "" : "s");
    while (pager.firstChild) { pager.removeChild(pager.firstChild); }
    var pages = Math.ceil(shown.length / PAGE);
    if (pages > 1) {
      var prev = document.createElement("button"), next = document.createElement("button");
      var label = document.createElement("span");
      prev.textContent = "← previous"; next.textContent = "next →";
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
      label.textContent = "page " + (page + 1) + " of " + pages;
      prev.addEventListener("click", function () { page -= 1; render(); });
      next.addEventListener("click", function () { page += 1; render(); });
      pager.appendChild(prev); pager.appendChild(label); pager.appendChild(next);
    }
  }
  function filter() {
    var needle = q.value.trim().toLowerCase(), o = outlet.value, f = onlyFindings.checked;
    shown = rows.filter(function (r) {
      if (o && r[2] !== o) { return false; }
      if (f && !r[5]) { return false; }
      if (!needle) { return true; }
      return ((r[1] || "") + " " + r[0] + " " + (r[2] || "")).toLowerCase().indexOf(needle) >= 0;
    });
    page = 0;
    render();
  }
  q.addEventListener("input", filter);
  outlet.addEventListener("change", filter);
  onlyFindings.addEventListener("change", filter);
  document.getElementById("article-search").hidden = false;
  filter();
}());
