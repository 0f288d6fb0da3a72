"""The page's inline stylesheet and its one small script (column sorting; no frameworks)."""

from __future__ import annotations

__all__ = ["SORT_SCRIPT", "STYLESHEET"]

STYLESHEET = """
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7em; margin: 0 0 12px; }
h2 { font-size: 1.3em; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 22px 0 6px; }
p { max-width: 70em; margin: 6px 0 10px; }
code { font-size: 0.92em; background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; }
.facts div { display: flex; gap: 6px; }
.facts dt { color: #555; }
.facts dt::after { content: ":"; }
.facts dd { margin: 0; font-weight: 600; }
.note { color: #555; font-size: 0.93em; }
.scroll { overflow-x: auto; max-width: 100%; }
table.data { border-collapse: collapse; font-size: 0.9em; margin: 8px 0; }
table.data th, table.data td { padding: 4px 8px; border-bottom: 1px solid #e4e4e4;
  text-align: left; vertical-align: top; white-space: nowrap; }
table.data thead th { background: #f4f6f8; border-bottom: 2px solid #c9d1d9; }
table.data thead tr:first-child th[colspan] { text-align: center;
  border-bottom: 1px solid #c9d1d9; }
table.data tbody tr:nth-child(even) { background: #fafafa; }
table.data td.model { white-space: normal; overflow-wrap: anywhere; min-width: 9em;
  max-width: 16em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: 700; }
.ci { display: block; color: #666; font-size: 0.85em; font-weight: 400; }
table.compounds .ci { display: inline; }
td.differs { background: #fde6d8; font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px;
  vertical-align: baseline; }
table.sortable thead th { cursor: pointer; user-select: none; }
table.sortable thead th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.75em; }
table.sortable thead th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.75em; }
.grid { display: flex; flex-wrap: wrap; gap: 18px 24px; align-items: flex-start; }
figure { margin: 8px 0; max-width: 100%; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
"""

SORT_SCRIPT = """
(function () {
  function key(cell) {
    var text = cell.getAttribute("data-sort");
    if (text !== null) { return {missing: false, number: parseFloat(text), text: ""}; }
    text = cell.textContent.trim();
    return {missing: text === "\\u2014", number: NaN, text: text.toLowerCase()};
  }
  function compare(a, b) {
    if (a.missing || b.missing) { return (a.missing ? 1 : 0) - (b.missing ? 1 : 0); }
    if (!isNaN(a.number) && !isNaN(b.number)) { return a.number - b.number; }
    return a.text < b.text ? -1 : (a.text > b.text ? 1 : 0);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[table.tHead.rows.length - 1].cells;
    Array.prototype.forEach.call(heads, function (th, column) {
      function sort() {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
          return {row: row, index: index, key: key(row.cells[column])};
        });
        rows.sort(function (a, b) {
          var missing = (a.key.missing ? 1 : 0) - (b.key.missing ? 1 : 0);
          if (missing) { return missing; }
          var order = compare(a.key, b.key);
          return (up ? order : -order) || a.index - b.index;
        });
        rows.forEach(function (item) { body.appendChild(item.row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sort(); }
      });
    });
  });
})();
"""
