"""The report page: one HTML file, no network fetches, every input value escaped.

Safety: values from input files (object names come from catalogs) reach the
page only through ``html.escape`` or through JSON whose ``<``, ``>`` and ``&``
are \\u-escaped, and the table script writes cells with ``textContent``. A
Content-Security-Policy allows only this page's own script and style (by
hash) and ``data:`` images, so even a missed escape could not run script or
fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from html import escape

# Rows of the table rendered in the HTML itself (readable without JavaScript);
# the script pages through the full data with the same page size.
PAGE_ROWS = 50


@dataclass
class FigureRef:
    """A PNG figure: its bytes, file name beside the page, alt text and caption."""

    png: bytes
    filename: str
    alt: str
    caption: str
    wide: bool = False  # spans the whole row (multi-panel figures)


@dataclass
class EventSection:
    """One top event: heading text, key numbers (label, value) and figures."""

    rank: int
    title: str
    facts: list[tuple[str, str]]
    figures: list[FigureRef]
    notes: list[str] = field(default_factory=list)


@dataclass
class TableData:
    """The conjunction table: column keys, header labels, numeric flags, display
    formats (None: as is, int: decimals, 'e': 3 significant digits) and rows."""

    keys: list[str]
    labels: list[str]
    numeric: list[bool]
    formats: list
    rows: list[list]


@dataclass
class Page:
    title: str
    run_facts: list[tuple[str, str]]
    overview: list[FigureRef]
    table: TableData
    events: list[EventSection]
    problems: list[str]
    ranking_note: str


def e(value) -> str:
    """Return ``value`` as HTML-escaped text (quotes too, safe in attributes)."""
    return escape("" if value is None else str(value), quote=True)


def json_for_script(obj) -> str:
    """Return JSON safe inside a <script> element: no '<', '>' or '&' survive."""
    text = json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256_source(text: str) -> str:
    return (
        "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"
    )


def _img(fig: FigureRef) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    cls = ' class="wide"' if fig.wide else ""
    return (
        f'<figure{cls}><img src="data:image/png;base64,{data}" alt="{e(fig.alt)}" '
        f'data-file="{e(fig.filename)}">'
        f'<figcaption>{e(fig.caption)} <a href="{e(fig.filename)}">PNG</a></figcaption></figure>'
    )


def _facts(facts) -> str:
    items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts)
    return f'<dl class="facts">{items}</dl>'


def show(value, fmt) -> str:
    """Return a table value as text, exactly as the page script shows it."""
    if fmt == "e":
        mantissa, exponent = f"{value:.2e}".split("e")
        return f"{mantissa}e{int(exponent):+d}"  # JavaScript toExponential(2) style
    if isinstance(fmt, int):
        return f"{value:.{fmt}f}"
    return str(value)


def _cell(value, numeric: bool, fmt) -> str:
    if value is None:
        return '<td class="num">\u2013</td>' if numeric else "<td></td>"
    cls = ' class="num"' if numeric else ""
    return f"<td{cls}>{e(show(value, fmt))}</td>"


CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:78rem;padding:0 1rem;
color:#111;background:#fff;line-height:1.4}
h1{font-size:1.6rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2rem}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(30rem,1fr));gap:1rem}
figure{margin:0;min-width:0}figure.wide{grid-column:1/-1;max-width:64rem}
figure img{width:100%;height:auto;border:1px solid #ddd}figcaption{font-size:.85rem;color:#333}
.tablewrap{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border:1px solid #ccc;padding:.2rem .4rem;white-space:nowrap}
th{background:#eef4fa;position:sticky;top:0}caption{text-align:left;caption-side:top;padding:.3rem 0}td.num{text-align:right;font-variant-numeric:tabular-nums}
th button{font:inherit;font-weight:600;background:none;border:0;cursor:pointer;padding:0}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.controls{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:.5rem 0}
section.event{border-top:1px solid #ccc;margin-top:1.5rem}
.note{color:#8a4b00}
"""

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("conjunction-data").textContent);
  var rows = data.rows, numeric = data.numeric, formats = data.formats;
  var pageSize = data.pageSize;
  var table = document.getElementById("conjunctions");
  var tbody = table.tBodies[0];
  var status = document.getElementById("table-status");
  var filterBox = document.getElementById("filter-text");
  var maxMissBox = document.getElementById("filter-miss");
  var missCol = data.keys.indexOf("miss_km");
  var haystack = rows.map(function (r) {
    return r.map(function (v) { return v === null ? "" : String(v); }).join(" ").toLowerCase();
  });
  var view = rows.map(function (r, i) { return i; });
  var sortCol = -1, sortDir = 1, page = 0;

  function show(v, c) {
    if (v === null) return numeric[c] ? "\\u2013" : "";
    if (formats[c] === "e") return v.toExponential(2);
    if (typeof formats[c] === "number") return v.toFixed(formats[c]);
    return String(v);
  }
  function compare(a, b) {
    var x = rows[a][sortCol], y = rows[b][sortCol];
    if (x === y) return a - b;
    if (x === null) return 1;
    if (y === null) return -1;
    if (numeric[sortCol]) return (x - y) * sortDir || a - b;
    return (String(x) < String(y) ? -1 : 1) * sortDir;
  }
  function apply() {
    var q = filterBox.value.trim().toLowerCase();
    var maxMiss = parseFloat(maxMissBox.value);
    view = [];
    for (var i = 0; i < rows.length; i++) {
      if (q && haystack[i].indexOf(q) < 0) continue;
      if (!isNaN(maxMiss) && !(rows[i][missCol] <= maxMiss)) continue;
      view.push(i);
    }
    if (sortCol >= 0) view.sort(compare);
    page = 0;
    render();
  }
  function render() {
    var pages = Math.max(1, Math.ceil(view.length / pageSize));
    page = Math.min(Math.max(page, 0), pages - 1);
    var frag = document.createDocumentFragment();
    var end = Math.min(view.length, (page + 1) * pageSize);
    for (var k = page * pageSize; k < end; k++) {
      var r = rows[view[k]], tr = document.createElement("tr");
      for (var c = 0; c < r.length; c++) {
        var td = document.createElement("td");
        if (numeric[c]) td.className = "num";
        td.textContent = show(r[c], c);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    status.textContent = view.length
      ? "rows " + (page * pageSize + 1) + "\\u2013" + end + " of " + view.length +
        " (page " + (page + 1) + " of " + pages + "; " + rows.length + " in total)"
      : "no rows match (" + rows.length + " in total)";
    document.getElementById("prev-page").disabled = page === 0;
    document.getElementById("next-page").disabled = page >= pages - 1;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, c) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      sortDir = sortCol === c ? -sortDir : 1;
      sortCol = c;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
        h.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      apply();
    });
  });
  filterBox.addEventListener("input", apply);
  maxMissBox.addEventListener("input", apply);
  document.getElementById("prev-page").addEventListener("click", function () { page--; render(); });
  document.getElementById("next-page").addEventListener("click", function () { page++; render(); });
  document.getElementById("table-controls").hidden = false;
  render();
})();
"""


def render_page(page: Page) -> str:
    """Return the complete HTML document of a report."""
    table = page.table
    head_cells = "".join(f'<th scope="col">{e(label)}</th>' for label in table.labels)
    static_rows = "".join(
        "<tr>"
        + "".join(
            _cell(v, num, f) for v, num, f in zip(row, table.numeric, table.formats, strict=True)
        )
        + "</tr>"
        for row in table.rows[:PAGE_ROWS]
    )
    data_json = json_for_script(
        {
            "keys": table.keys,
            "numeric": table.numeric,
            "formats": table.formats,
            "pageSize": PAGE_ROWS,
            "rows": table.rows,
        }
    )
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_sha256_source(CSS)}; script-src {_sha256_source(SCRIPT)}; "
        "base-uri 'none'; form-action 'none'"
    )

    events_html = []
    for ev in page.events:
        notes = "".join(f'<p class="note">{e(n)}</p>' for n in ev.notes)
        figs = "".join(_img(f) for f in ev.figures)
        events_html.append(
            f'<section class="event" id="event-{ev.rank}" aria-labelledby="event-{ev.rank}-h">'
            f'<h3 id="event-{ev.rank}-h">{e(ev.title)}</h3>{_facts(ev.facts)}{notes}'
            f'<div class="figs">{figs}</div></section>'
        )
    if not page.events:
        events_html.append("<p>No conjunctions: nothing to rank.</p>")

    problems_html = ""
    if page.problems:
        items = "".join(f"<li>{e(p)}</li>" for p in page.problems)
        problems_html = (
            f'<section aria-labelledby="problems-h"><h2 id="problems-h">Input problems '
            f"({len(page.problems)})</h2><details><summary>Show</summary>"
            f"<ul>{items}</ul></details></section>"
        )

    n_rows = len(table.rows)
    shown = min(n_rows, PAGE_ROWS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{e(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(page.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{e(page.title)}</h1>
{_facts(page.run_facts)}
</header>
<nav aria-label="Sections"><a href="#overview-h">Overview</a> \u00b7 <a href="#table-h">All conjunctions</a> \u00b7 <a href="#events-h">Top events</a></nav>
<main>
<section aria-labelledby="overview-h">
<h2 id="overview-h">Overview</h2>
<div class="figs">{"".join(_img(f) for f in page.overview)}</div>
</section>
<section aria-labelledby="table-h">
<h2 id="table-h">All conjunctions ({n_rows})</h2>
<p>{e(page.ranking_note)}</p>
<div class="controls" id="table-controls" hidden>
<label>Filter (name, NORAD id, type, owner, flag) <input type="search" id="filter-text"></label>
<label>Miss at most (km) <input type="number" id="filter-miss" min="0" step="any"></label>
<button type="button" id="prev-page">Previous page</button>
<button type="button" id="next-page">Next page</button>
<span id="table-status" role="status" aria-live="polite">rows 1\u2013{shown} of {n_rows}</span>
</div>
<noscript><p>JavaScript is off: the first {shown} rows are shown, without sorting or
filtering; every row is in conjunctions.csv.</p></noscript>
<div class="tablewrap">
<table id="conjunctions">
<caption>Conjunctions, most serious first. Numbers in km, km/s and days; \u2013 means not available.</caption>
<thead><tr>{head_cells}</tr></thead>
<tbody>{static_rows}</tbody>
</table>
</div>
</section>
<section aria-labelledby="events-h">
<h2 id="events-h">Top {len(page.events)} events</h2>
{"".join(events_html)}
</section>
{problems_html}
</main>
<script type="application/json" id="conjunction-data">{data_json}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
