// The HTML report: the sections of docs/report.md as one self-contained page.
//
// The summary (header, score ring, totals, resources, categories, the
// namespace × category matrix) is rendered here as static HTML with inline
// SVG. The findings travel as one JSON blob in a <script type="application/json">;
// the browser filters and sorts that data and renders the table a page of rows
// at a time, so a report with 10k findings stays fast. A Content-Security-Policy
// forbids every network request. tests/integration/html_test.mjs drives it in
// headless Chromium.
#include "report/html_report.hpp"
#include "report/grouping.hpp"
#include "report/vulns.hpp"
#include "model/vuln_text.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "core/json_writer.hpp"

namespace kg {
namespace {

// HTML-escaped text, for element content and quoted attribute values alike.
struct Esc {
  std::string_view s;
};

std::ostream& operator<<(std::ostream& out, Esc e) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < e.s.size(); ++i) {
    std::string_view rep;
    const auto b = static_cast<unsigned char>(e.s[i]);
    const bool c1 = b == 0xC2 && i + 1 < e.s.size() &&
                    static_cast<unsigned char>(e.s[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(e.s[i + 1]) <= 0x9F;
    if ((b < 0x20 && b != '\t' && b != '\n') || b == 0x7F || c1) {
      // Controls are invalid in HTML text and live on a terminal that shows the file.
      out.write(e.s.data() + run, static_cast<std::streamsize>(i - run)) << "\xEF\xBF\xBD";  // U+FFFD
      if (c1) ++i;
      run = i + 1;
      continue;
    }
    switch (e.s[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': rep = "&quot;"; break;
      case '\'': rep = "&#39;"; break;
      default: continue;
    }
    out.write(e.s.data() + run, static_cast<std::streamsize>(i - run)) << rep;
    run = i + 1;
  }
  return out.write(e.s.data() + run, static_cast<std::streamsize>(e.s.size() - run));
}

double ratio(std::uint64_t part, std::uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string fixed1(double v) {
  return fixed(v, 1);
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  return fixed1(ratio(part, whole)) + "%";
}

// Same thresholds as the text report: green from 80, amber from 60, red below.
std::string_view tone(int score) {
  return score >= 80 ? "good" : score >= 60 ? "warn" : "bad";
}

constexpr Severity kSeveritiesDesc[] = {Severity::Critical, Severity::High, Severity::Medium,
                                        Severity::Low};

constexpr std::string_view kCss = R"css(
:root{--bg:#f4f6f9;--card:#fff;--ink:#0f172a;--ink2:#334155;--muted:#5b6b80;--line:#e3e8ef;
--crit:#b91c1c;--high:#ea580c;--med:#d4a106;--low:#2563eb;--pass:#16a34a;--fail:#dc2626;
--exempt:#94a3b8;--good:#15803d;--warn:#b45309;--bad:#b91c1c;--focus:#2563eb}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,"Noto Sans","PingFang SC","Hiragino Sans GB","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif;-webkit-font-smoothing:antialiased}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px}
.num{font-variant-numeric:tabular-nums}
.wrap{max-width:1440px;margin:0 auto;padding:0 32px}
:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:16px;top:8px;background:#fff;color:var(--ink);padding:6px 10px;z-index:9}
.top{background:#0f172a;color:#e2e8f0;border-bottom:3px solid #1e3a8a}
.top .wrap{display:flex;align-items:center;gap:32px;padding-top:18px;padding-bottom:18px;flex-wrap:wrap}
.brand{display:flex;align-items:center;gap:12px;margin-right:auto}
.brand h1{font-size:19px;font-weight:600;margin:0;color:#fff;letter-spacing:.01em}
.brand .sub{font-size:12px;color:#94a3b8}
.meta{display:flex;gap:28px;margin:0;flex-wrap:wrap}
.meta div{min-width:0}
.meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:#94a3b8}
.meta dd{margin:2px 0 0;font-size:13px;color:#f1f5f9;max-width:380px;overflow-wrap:anywhere}
.btn{font:inherit;font-size:13px;border:1px solid #cbd5e1;background:#fff;color:var(--ink);border-radius:6px;
padding:6px 12px;cursor:pointer}
.btn:hover{background:#f1f5f9}
.top .btn{background:transparent;color:#e2e8f0;border-color:#475569}
.top .btn:hover{background:#1e293b}
main.wrap{padding-top:28px;padding-bottom:40px}
section{margin-bottom:28px}
h2{font-size:17px;font-weight:600;margin:0 0 14px;color:var(--ink)}
.grid{display:grid;gap:20px}
.g3{grid-template-columns:minmax(300px,1.05fr) 1.3fr 1fr}
.g2{grid-template-columns:1.35fr 1fr;margin-top:20px;align-items:start}
.col{display:flex;flex-direction:column;gap:20px;min-width:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;
box-shadow:0 1px 2px rgba(15,23,42,.04)}
.card h3{font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);
margin:0 0 16px;display:flex;align-items:center;gap:12px}
.card h3 .legend{margin-left:auto}
.score{display:flex;align-items:center;gap:24px}
.ring text{font-family:inherit}
.ring .val{font-size:32px;font-weight:700;fill:var(--ink)}
.ring .of{font-size:11px;fill:var(--muted)}
.grade{display:inline-block;font-size:22px;font-weight:700;padding:2px 12px;border-radius:8px;margin:2px 0 8px}
.grade.good,.pill.good{background:#dcfce7;color:#14532d}
.grade.warn,.pill.warn{background:#fef3c7;color:#78350f}
.grade.bad,.pill.bad{background:#fee2e2;color:#7f1d1d}
.label{font-size:12px;color:var(--muted)}
.score p{margin:0;color:var(--ink2);font-size:13px}
.sev{display:grid;grid-template-columns:repeat(4,1fr);gap:12px}
.tile{border:1px solid var(--line);border-radius:8px;padding:12px 14px;border-top:4px solid var(--c)}
.tile .n{font-size:28px;font-weight:650;line-height:1.1;display:block}
.tile.zero .n{color:#64748b}
.tile .t{font-size:13px;color:var(--ink2)}
.c-critical{--c:var(--crit)}.c-high{--c:var(--high)}.c-medium{--c:var(--med)}.c-low{--c:var(--low)}
.c-pass{--c:var(--pass)}.c-fail{--c:var(--fail)}.c-exempt{--c:var(--exempt)}
.foot{margin:14px 0 0;font-size:12px;color:var(--muted)}
.gradecap{margin:10px 0 0;font-size:13px;color:#7f1d1d}
.card.scopes{margin-bottom:20px}
.kv.fwt td,.kv.fwt th{padding:5px 14px 5px 0;vertical-align:top}
.card h4.sub{margin:20px 0 6px;font-size:12px;font-weight:600;color:var(--ink2)}
.kv.worst th{font-weight:400}
.kv.worst code{font-size:11px;margin-left:4px}
.big{font-size:28px;font-weight:650;line-height:1.1}
.stack{display:flex;height:10px;border-radius:5px;overflow:hidden;background:#eef2f6;margin:12px 0 14px}
.stack span{display:block;height:100%}
.bg-pass{background:var(--pass)}.bg-fail{background:var(--fail)}.bg-exempt{background:var(--exempt)}
.legend{display:flex;gap:14px;font-size:12px;color:var(--ink2);font-weight:400;text-transform:none;letter-spacing:0}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;background:var(--c);margin-right:6px;vertical-align:0}
.kv{width:100%;border-collapse:collapse}
.kv td,.kv th{padding:5px 0;font-size:13px;text-align:left;font-weight:400}
.kv td.r,.kv th.r{text-align:right}
.kv tr+tr td,.kv tr+tr th{border-top:1px solid #f0f3f7}
.kv thead th{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);padding-bottom:8px}
.kv tfoot td,.kv tfoot th{font-weight:600;border-top:1px solid var(--line)}
td.bar{width:34%;padding-left:14px}
.mini{display:block;height:6px;border-radius:3px;background:#eef2f6;width:100%;min-width:60px}
.mini span{display:block;height:100%;border-radius:3px;background:#64748b}
.cats{display:grid;grid-template-columns:max-content 1fr max-content max-content;gap:14px 16px;align-items:center}
.cats .name{font-weight:500}
.cats .stack{margin:0;height:12px}
.cats .cnt{font-size:12px;color:var(--ink2);text-align:right;white-space:nowrap}
.pill{display:inline-block;min-width:40px;text-align:center;font-weight:650;font-size:13px;border-radius:6px;padding:1px 8px}
.pill.none{background:#f1f5f9;color:var(--muted)}
.matrix{border-collapse:separate;border-spacing:4px;width:100%}
.matrix th{font-size:12px;font-weight:600;color:var(--ink2);padding:6px 10px;text-align:center}
.matrix th[scope=row],.matrix th.l{text-align:left;font-weight:500;color:var(--ink);white-space:nowrap}
.matrix th.muted{color:var(--muted)}
.matrix td{text-align:center;padding:0;border-radius:6px;height:38px;font-weight:600;background:#f6f8fb;color:#64748b}
.matrix td.h1{background:#fee2e2;color:#7f1d1d}.matrix td.h2{background:#fecaca;color:#7f1d1d}
.matrix td.h3{background:#fca5a5;color:#7f1d1d}.matrix td.h4{background:#dc2626;color:#fff}
.matrix td.h5{background:#b91c1c;color:#fff}
.matrix td a{display:flex;align-items:center;justify-content:center;height:38px;color:inherit;text-decoration:none;border-radius:6px}
.matrix td a:hover{box-shadow:inset 0 0 0 2px rgba(15,23,42,.35)}
.matrix td.tot{background:transparent;color:var(--ink)}
.scroll{overflow-x:auto}
.filters{display:grid;grid-template-columns:1.6fr repeat(6,minmax(0,1fr));gap:12px 12px;align-items:end;margin-bottom:14px}
.fbar{grid-column:1/-1;display:flex;align-items:center;gap:12px}
.filters label{display:flex;flex-direction:column;gap:4px;font-size:11px;font-weight:600;color:var(--muted);
text-transform:uppercase;letter-spacing:.06em}
.filters select,.filters input{font:inherit;font-size:13px;color:var(--ink);border:1px solid #cbd5e1;border-radius:6px;
padding:0 8px;height:34px;background:#fff;width:100%;min-width:0}
.count{margin-left:auto;font-size:13px;color:var(--ink2)}
.count strong{font-size:15px;color:var(--ink)}
table.findings{width:100%;border-collapse:collapse;font-size:13px}
.findings thead th{position:sticky;top:0;background:#f8fafc;z-index:1;text-align:left;font-weight:600;
border-bottom:1px solid var(--line);padding:0;white-space:nowrap}
.findings thead th button{all:unset;box-sizing:border-box;display:block;width:100%;padding:9px 8px;cursor:pointer;
font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--ink2)}
.findings thead th button:hover{background:#eef2f6;color:var(--ink)}
.findings thead th button:focus-visible{outline:2px solid var(--focus);outline-offset:-2px}
.findings thead th[aria-sort=ascending] button::after{content:"\2191";margin-left:4px}
.findings thead th[aria-sort=descending] button::after{content:"\2193";margin-left:4px}
.findings thead th[aria-sort] button{color:var(--ink)}
.findings thead th.tg{width:34px}
.findings td{padding:8px 8px;border-bottom:1px solid #edf1f5;vertical-align:top;overflow-wrap:break-word}
.findings td.msg{min-width:240px}
.findings td.rule{min-width:160px}
.findings td.loc{min-width:165px}
.findings tr.finding{cursor:pointer}
.findings tr.finding:hover td{background:#f8fafc}
.findings tr.open td{background:#f8fafc;border-bottom-color:transparent}
.findings td.nw{white-space:nowrap;overflow-wrap:normal}
.findings .rid{display:block;color:var(--muted);font-size:11px}
.findings td.loc code{color:var(--ink2)}
.muted{color:var(--muted)}
.tog{all:unset;cursor:pointer;display:inline-flex;width:22px;height:22px;align-items:center;justify-content:center;
border-radius:4px;color:var(--muted)}
.tog:hover{background:#e2e8f0}
.tog:focus-visible{outline:2px solid var(--focus)}
.tog svg{transition:transform .12s}
.tog[aria-expanded=true] svg{transform:rotate(90deg)}
.badge{display:inline-flex;align-items:center;gap:6px;font-size:12px;font-weight:600;border-radius:999px;padding:1px 9px;white-space:nowrap}
.b-critical{background:#fee2e2;color:#7f1d1d}.b-high{background:#ffedd5;color:#7c2d12}
.b-medium{background:#fef9c3;color:#713f12}.b-low{background:#dbeafe;color:#1e3a8a}
.b-fail{background:#fee2e2;color:#7f1d1d}.b-pass{background:#dcfce7;color:#14532d}.b-exempt{background:#e2e8f0;color:#334155}
tr.detail td{background:#f8fafc;border-bottom:1px solid var(--line);padding:4px 10px 18px}
.dgrid{display:grid;grid-template-columns:1fr 1fr 0.8fr;gap:22px}
.dgrid h4{margin:0 0 4px;font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.dgrid p{margin:0;color:var(--ink)}
.dgrid ul{margin:0;padding-left:18px}
.dmeta{grid-column:1/-1;font-size:12px;color:var(--ink2)}
.dmeta.exemption{margin-top:-14px}
.empty{padding:28px;text-align:center;color:var(--muted)}
.more{display:flex;gap:10px;align-items:center;justify-content:center;padding:16px 0 4px;color:var(--ink2);font-size:13px}
.more[hidden]{display:none}
.errors td{color:var(--ink)}
footer{color:var(--muted);font-size:12px;padding:0 0 32px}
footer p{margin:4px 0}
@media (max-width:1100px){.g3,.g2{grid-template-columns:1fr}.dgrid{grid-template-columns:1fr}
.filters{grid-template-columns:repeat(auto-fill,minmax(180px,1fr))}}
@media (min-width:1101px){.tablewrap{overflow:visible}}
@media print{
@page{margin:14mm}
body{background:#fff;font-size:11px}
.top{background:none;color:var(--ink);border-bottom:2px solid var(--ink)}
.brand h1,.meta dd{color:var(--ink)}.brand .sub,.meta dt{color:var(--muted)}
.brand svg rect{fill:none;stroke:var(--ink)}.brand svg path{stroke:var(--ink)}
.wrap{max-width:none;padding:0}
.no-print,.filters select,.filters input,.filters label,.tg,td.tg,.tog,.skip{display:none!important}
.filters{display:block;margin-bottom:6px}
.count{margin-left:0}
.card{box-shadow:none;border-color:#cbd5e1;break-inside:avoid}
.g3{grid-template-columns:1fr 1fr}.g2{grid-template-columns:1fr}
.scroll{overflow:visible}
.findings thead th{position:static;white-space:normal}
code,.mono{font-size:9px}.findings .rid{font-size:8.5px}
table.findings{table-layout:fixed;font-size:9.5px}
.findings td{padding:4px 5px;overflow-wrap:anywhere;min-width:0!important}
.findings thead th button{padding:4px 5px;font-size:8px;letter-spacing:0;white-space:normal;overflow-wrap:anywhere}
.findings th:nth-child(2){width:9%}.findings th:nth-child(3){width:10%}.findings th:nth-child(4){width:9%}
.findings th:nth-child(5){width:8%}.findings th:nth-child(6){width:8%}.findings th:nth-child(7){width:8%}
.findings th:nth-child(8){width:13%}.findings th:nth-child(9){width:7%}.findings th:nth-child(11){width:11%}
.badge{font-size:9px;padding:0 5px}
.dgrid{grid-template-columns:1fr 1fr 0.8fr;gap:12px}
.findings thead th button::after{content:none!important}
.findings tr.finding,.findings tr.detail{break-inside:avoid}
tr.detail td{background:none}
.findings tr.open td{background:none}.dmeta{font-size:9px}
.matrix td{background:none!important;color:var(--ink)!important;border:1px solid #cbd5e1}
.matrix td.tot{border:0}
.stack span,.mini span,.dot{-webkit-print-color-adjust:exact;print-color-adjust:exact}
section{break-inside:auto}
a{color:inherit}
}
)css";

constexpr std::string_view kJs = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('kguard-data').textContent);
  var L = data.labels;
  var SEV = {critical: 3, high: 2, medium: 1, low: 0};
  var RES = {fail: 0, exempt: 1, pass: 2};
  var CAT = {};
  data.categories.forEach(function (c, i) { CAT[c] = i; });
  var PAGE = 300;  // rows rendered at a time: the DOM stays small for any report
  var collator = new Intl.Collator(data.lang, {numeric: true, sensitivity: 'base'});
  var all = data.findings.map(function (f, i) {
    var rule = data.rules[f[0]];
    return {i: i, rule: rule, sev: rule.severity, cat: rule.category, res: f[1], kind: f[2], ns: f[3],
            name: f[4], container: f[5], message: f[6], file: f[7], line: f[8], col: f[9], path: f[10],
            reason: f[11], until: f[12], open: false, hay: null};
  });
  var order = all.slice();  // current sort order
  var matched = order;      // rows passing the filters, in sort order
  var limit = PAGE;
  var printing = false;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  // Lets long field paths and image names wrap at their separators.
  function breakable(html) { return html.replace(/([.=\/,])(?=\S)/g, '$1<wbr>'); }
  var CHEVRON = '<svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><path d="M4 2l4 4-4 4" ' +
      'fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';

  function rowHtml(r, open) {
    return '<tr class="finding' + (open ? ' open' : '') + '" data-i="' + r.i + '">' +
      '<td class="tg"><button type="button" class="tog" aria-expanded="' + open + '" aria-controls="d' + r.i +
      '" aria-label="' + esc(L.ui.details + ': ' + r.rule.title) + '">' + CHEVRON + '</button></td>' +
      '<td class="nw"><span class="badge b-' + r.sev + '">' + esc(L.sev[r.sev]) + '</span></td>' +
      '<td class="nw">' + esc(r.kind) + '</td>' +
      '<td>' + (r.ns ? esc(r.ns) : '<span class="muted">' + esc(L.ui.cluster) + '</span>') + '</td>' +
      '<td>' + esc(r.name) + '</td>' +
      '<td>' + esc(r.container) + '</td>' +
      '<td>' + esc(L.cat[r.cat]) + '</td>' +
      '<td class="rule">' + esc(r.rule.title) + '<code class="rid">' + esc(r.rule.id) + '</code></td>' +
      '<td class="nw"><span class="badge b-' + r.res + '">' + esc(L.res[r.res]) + '</span></td>' +
      '<td class="msg">' + breakable(esc(r.message)) + '</td>' +
      '<td class="loc"><code>' + esc(r.file + ':' + r.line).replace(/\//g, '/<wbr>') + '</code></td></tr>' +
      (open ? detailHtml(r) : '');
  }

  // A row's rule: rationale, remediation and references.
  function detailHtml(r) {
    var refs = r.rule.references.map(function (x) {
      return '<li>' + (/^https:\/\//.test(x) ? '<a href="' + esc(x) + '" rel="noreferrer">' + esc(x) + '</a>' : esc(x)) +
          '</li>';
    }).join('');
    return '<tr class="detail" id="d' + r.i + '"><td class="tg"></td><td colspan="10"><div class="dgrid">' +
      '<div><h4>' + esc(L.ui.rationale) + '</h4><p>' + esc(r.rule.rationale) + '</p></div>' +
      '<div><h4>' + esc(L.ui.remediation) + '</h4><p class="remediation">' + esc(r.rule.remediation) + '</p></div>' +
      '<div><h4>' + esc(L.ui.references) + '</h4>' + (refs ? '<ul>' + refs + '</ul>' : '<p class="muted">-</p>') +
      '</div><div class="dmeta">' + esc(L.ui.location) + ': <code>' + esc(r.file + ':' + r.line + ':' + r.col) +
      '</code>' + (r.path ? ' &middot; ' + esc(L.ui.field) + ': <code>' + breakable(esc(r.path)) + '</code>' : '') +
      '</div>' + (r.res === 'exempt' && (r.reason || r.until) ? '<div class="dmeta exemption">' + esc(L.ui.exemption) +
      ': ' + esc(r.reason) + (r.until ? ' (' + esc(L.ui.until) + ' ' + esc(r.until) + ')' : '') + '</div>' : '') +
      '</div></td></tr>';
  }

  var tbody = document.getElementById('rows');
  tbody.setAttribute('data-page-size', String(PAGE));
  var visibleEl = document.getElementById('count-visible');
  var emptyEl = document.getElementById('empty');
  var moreEl = document.getElementById('more');
  var moreText = document.getElementById('more-text');

  function render() {
    var n = printing ? matched.length : Math.min(limit, matched.length);
    var html = '';
    for (var i = 0; i < n; i++) html += rowHtml(matched[i], printing || matched[i].open);
    tbody.innerHTML = html;
    visibleEl.textContent = String(matched.length);
    emptyEl.hidden = matched.length !== 0;
    moreEl.hidden = n >= matched.length;
    moreText.textContent = L.ui.paged.replace('{shown}', n).replace('{total}', matched.length);
  }

  // Filters: select values are "=" + value, "" means all.
  var ruleTitle = {};
  data.rules.forEach(function (r) { ruleTitle[r.id] = r.title; });
  var filters = [
    {id: 'f-namespace', get: function (r) { return r.ns; }, label: function (v) { return v || L.ui.cluster; }},
    {id: 'f-kind', get: function (r) { return r.kind; }},
    {id: 'f-category', get: function (r) { return r.cat; }, label: function (v) { return L.cat[v]; },
     order: function (a, b) { return CAT[a] - CAT[b]; }},
    {id: 'f-severity', get: function (r) { return r.sev; }, label: function (v) { return L.sev[v]; },
     order: function (a, b) { return SEV[b] - SEV[a]; }},
    {id: 'f-rule', get: function (r) { return r.rule.id; },
     label: function (v) { return ruleTitle[v] + ' (' + v + ')'; },
     order: function (a, b) { return collator.compare(ruleTitle[a], ruleTitle[b]); }},
    {id: 'f-result', get: function (r) { return r.res; }, label: function (v) { return L.res[v]; },
     order: function (a, b) { return RES[a] - RES[b]; }}
  ];
  filters.forEach(function (f) {
    f.el = document.getElementById(f.id);
    var counts = new Map();
    all.forEach(function (r) { var v = f.get(r); counts.set(v, (counts.get(v) || 0) + 1); });
    var values = Array.from(counts.keys());
    values.sort(f.order || function (a, b) {
      if (a === '' || b === '') return a === '' ? 1 : -1;
      return collator.compare(a, b);
    });
    var html = '<option value="">' + esc(L.ui.all) + '</option>';
    values.forEach(function (v) {
      html += '<option value="=' + esc(v) + '">' + esc((f.label ? f.label(v) : v) + ' (' + counts.get(v) + ')') +
          '</option>';
    });
    f.el.innerHTML = html;
    f.el.addEventListener('change', function () { limit = PAGE; apply(); });
  });
  var search = document.getElementById('f-text');
  var searchTimer = 0;
  search.addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { limit = PAGE; apply(); }, all.length > 5000 ? 150 : 0);
  });

  function hay(r) {
    if (r.hay === null) {
      r.hay = [r.kind, r.ns, r.name, r.container, r.rule.id, r.rule.title, r.message, r.file + ':' + r.line,
               r.path, L.sev[r.sev], L.cat[r.cat], L.res[r.res]].join('\n').toLowerCase();
    }
    return r.hay;
  }

  function apply() {
    var active = filters.filter(function (f) { return f.el.value !== ''; })
        .map(function (f) { return {get: f.get, v: f.el.value.slice(1)}; });
    var q = search.value.trim().toLowerCase();
    matched = !active.length && !q ? order : order.filter(function (r) {
      for (var j = 0; j < active.length; j++) if (active[j].get(r) !== active[j].v) return false;
      return !q || hay(r).indexOf(q) !== -1;
    });
    render();
  }

  document.getElementById('f-reset').addEventListener('click', function () {
    filters.forEach(function (f) { f.el.value = ''; });
    search.value = '';
    limit = PAGE;
    apply();
  });
  document.getElementById('more-page').addEventListener('click', function () { limit += PAGE * 3; render(); });
  document.getElementById('more-all').addEventListener('click', function () { limit = Infinity; render(); });

  // Sorting: one key at a time; ties keep the report's order.
  var keys = {
    severity: function (a, b) { return SEV[a.sev] - SEV[b.sev]; },
    kind: function (a, b) { return collator.compare(a.kind, b.kind); },
    namespace: function (a, b) { return collator.compare(a.ns, b.ns); },
    name: function (a, b) { return collator.compare(a.name, b.name); },
    container: function (a, b) { return collator.compare(a.container, b.container); },
    category: function (a, b) { return CAT[a.cat] - CAT[b.cat]; },
    rule: function (a, b) { return collator.compare(a.rule.title, b.rule.title); },
    result: function (a, b) { return RES[a.res] - RES[b.res]; },
    message: function (a, b) { return collator.compare(a.message, b.message); },
    location: function (a, b) { return collator.compare(a.file, b.file) || a.line - b.line; }
  };
  var headers = document.querySelectorAll('table.findings thead th[data-key]');
  var sortKey = null, sortDir = 1;
  headers.forEach(function (th) {
    th.querySelector('button').addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      if (key === sortKey) sortDir = -sortDir;
      else { sortKey = key; sortDir = key === 'severity' ? -1 : 1; }
      var cmp = keys[key];
      order.sort(function (a, b) { return sortDir * cmp(a, b) || a.i - b.i; });
      headers.forEach(function (h) {
        if (h === th) h.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
        else h.removeAttribute('aria-sort');
      });
      apply();
    });
  });

  // Expanding a row shows its rule's rationale, remediation and references.
  tbody.addEventListener('click', function (e) {
    var tr = e.target.closest('tr.finding');
    if (!tr || e.target.closest('a')) return;
    if (!e.target.closest('.tog') && String(window.getSelection())) return;  // selecting text
    var r = all[+tr.getAttribute('data-i')];
    r.open = !r.open;
    tr.classList.toggle('open', r.open);
    tr.querySelector('.tog').setAttribute('aria-expanded', String(r.open));
    if (r.open) tr.insertAdjacentHTML('afterend', detailHtml(r));
    else if (tr.nextElementSibling && tr.nextElementSibling.id === 'd' + r.i) tr.nextElementSibling.remove();
  });

  // Print: every row that passes the filters, with its details.
  function beforePrint() { if (!printing) { printing = true; render(); } }
  function afterPrint() { if (printing) { printing = false; render(); } }
  window.addEventListener('beforeprint', beforePrint);
  window.addEventListener('afterprint', afterPrint);
  document.getElementById('print').addEventListener('click', function () { window.print(); });

  // A matrix cell filters the table to its namespace and category.
  document.querySelectorAll('.matrix a[data-cat]').forEach(function (a) {
    a.addEventListener('click', function () {
      filters.forEach(function (f) { f.el.value = ''; });
      document.getElementById('f-namespace').value = '=' + a.getAttribute('data-ns');
      document.getElementById('f-category').value = '=' + a.getAttribute('data-cat');
      document.getElementById('f-result').value = all.some(function (r) { return r.res === 'fail'; }) ? '=fail' : '';
      search.value = '';
      limit = PAGE;
      apply();
    });
  });

  apply();
  document.documentElement.setAttribute('data-ready', 'true');
})();
)js";

// The findings as one JSON blob; `</` and `<!--` are escaped so the blob
// cannot end its <script> element early.
void write_data(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  std::ostringstream buf;
  JsonWriter w(buf);
  w.begin_object();
  w.field("lang", lang_code(L));
  w.key("categories").begin_array();
  for (const CategoryReport& c : m.categories) w.value(to_string(c.category));
  w.end_array();
  w.key("labels").begin_object();
  w.key("sev").begin_object();
  for (Severity sev : kSeveritiesDesc) w.field(to_string(sev), tr(L, to_string(sev)));
  w.end_object();
  w.key("res").begin_object();
  for (Result r : {Result::Fail, Result::Pass, Result::Exempt})
    w.field(to_string(r), tr(L, to_string(r)));
  w.end_object();
  w.key("cat").begin_object();
  for (const CategoryReport& c : m.categories) w.field(to_string(c.category), tr(L, category_title(c.category)));
  w.end_object();
  w.key("ui")
      .begin_object()
      .field("all", tr(L, "All"))
      .field("cluster", tr(L, "cluster-scoped"))
      .field("details", tr(L, "Show details"))
      .field("rationale", tr(L, "Rationale"))
      .field("remediation", tr(L, "Remediation"))
      .field("references", tr(L, "References"))
      .field("location", tr(L, "Location"))
      .field("field", tr(L, "Field"))
      .field("exemption", tr(L, "Exemption"))
      .field("until", tr(L, "until"))
      .field("paged", tr(L, "Showing the first {shown} of {total} matching findings."))
      .end_object();
  w.end_object();

  std::unordered_map<const RuleInfo*, std::uint64_t> rule_index;
  w.key("rules").begin_array();
  for (const FindingView f : s.findings) {
    if (!rule_index.emplace(f.rule, rule_index.size()).second) continue;
    const RuleInfo& r = *f.rule;
    w.begin_object()
        .field("id", r.id)
        .field("title", r.title_in(L))
        .field("category", to_string(r.category))
        .field("severity", to_string(r.severity))
        .field("rationale", r.rationale_in(L))
        .field("remediation", r.remediation_in(L));
    w.key("references").begin_array();
    for (const std::string& ref : r.references) w.value(ref);
    w.end_array().end_object();
  }
  w.end_array();

  // [rule, result, kind, namespace, name, container, message, file, line, column, path,
  //  exemption reason, exemption until]
  // The page filters and pages findings itself; only a report too large to
  // open well lists findings of a repeated shape a few times, then counts
  // them (report/grouping.hpp).
  constexpr std::size_t kGroupAbove = 20000;
  const FindingGroups groups =
      group_findings(s.findings, s.findings.size() > kGroupAbove ? kShownPerGroup : SIZE_MAX);
  w.key("findings").begin_array();
  for (std::size_t fi = 0; fi < s.findings.size(); ++fi) {
    if (groups.hidden[fi]) continue;
    const FindingView f = s.findings[fi];
    std::string message = m.message(f);
    if (groups.more[fi] > 0) {
      message += " (… " + std::string(tr(L, "and")) + ' ' + std::to_string(groups.more[fi]) + ' ' +
                 std::string(tr(L, "more like this, not listed here")) + ')';
    }
    w.begin_array()
        .value(rule_index.at(f.rule))
        .value(to_string(f.result))
        .value(f.kind)
        .value(f.ns)
        .value(f.name)
        .value(f.container)
        .value(message)
        .value(f.location.file)
        .value(static_cast<std::uint64_t>(f.location.line))
        .value(static_cast<std::uint64_t>(f.location.column))
        .value(f.location.path)
        .value(f.exemption_reason)
        .value(f.exemption_until)
        .end_array();
  }
  w.end_array();
  w.end_object();

  const std::string json = buf.str();
  std::size_t run = 0;
  for (std::size_t i = 0; i < json.size(); ++i) {
    // DEL and C1 controls (only ever inside JSON strings) as \u escapes: the
    // page renders the same and a terminal showing the file sees no controls.
    const auto b = static_cast<unsigned char>(json[i]);
    const bool c1 = b == 0xC2 && i + 1 < json.size() &&
                    static_cast<unsigned char>(json[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(json[i + 1]) <= 0x9F;
    if (b == 0x7F || c1) {
      out.write(json.data() + run, static_cast<std::streamsize>(i - run));
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c1 ? static_cast<unsigned char>(json[i + 1]) : 0x7Fu);
      out << esc;
      i += c1 ? 1 : 0;
      run = i + 1;
      continue;
    }
    if (json[i] != '<') continue;
    out.write(json.data() + run, static_cast<std::streamsize>(i - run));
    run = i + 1;
    if (json.compare(i + 1, 1, "/") == 0) {
      out << "<\\/";
      ++run;
    } else if (json.compare(i + 1, 3, "!--") == 0) {
      out << "\\u003c";
    } else {
      out << '<';
    }
  }
  out.write(json.data() + run, static_cast<std::streamsize>(json.size() - run));
}

void write_ring(const ReportModel& m, std::ostream& out) {
  constexpr double kRadius = 52.0;
  constexpr double kCircumference = 2 * 3.14159265358979 * kRadius;
  const double arc = kCircumference * std::clamp(m.score, 0, 100) / 100.0;
  const std::string_view colour = m.score >= 80 ? "#16a34a" : m.score >= 60 ? "#d97706" : "#dc2626";
  out << "<svg class=\"ring\" width=\"148\" height=\"148\" viewBox=\"0 0 120 120\" role=\"img\" "
         "aria-label=\""
      << Esc{tr(m.lang, "Health score")} << ' ' << m.score << "/100, " << Esc{tr(m.lang, "Grade")}
      << ' ' << Esc{m.grade} << "\">"
      << "<circle cx=\"60\" cy=\"60\" r=\"52\" fill=\"none\" stroke=\"#e8edf3\" "
         "stroke-width=\"11\"/>"
      << "<circle cx=\"60\" cy=\"60\" r=\"52\" fill=\"none\" stroke=\"" << colour
      << "\" stroke-width=\"11\" stroke-linecap=\"round\" transform=\"rotate(-90 60 60)\" "
         "stroke-dasharray=\""
      << fixed1(arc) << ' ' << fixed1(kCircumference) << "\"/>"
      << "<text class=\"val num\" x=\"60\" y=\"64\" text-anchor=\"middle\" data-stat=\"score\">"
      << m.score
      << "</text><text class=\"of\" x=\"60\" y=\"82\" text-anchor=\"middle\">/ 100</text></svg>";
}

void write_score_card(const ReportModel& m, std::ostream& out) {
  const Lang L = m.lang;
  out << "<div class=\"card\"><h3>" << Esc{tr(L, "Health score")} << "</h3><div class=\"score\">";
  write_ring(m, out);
  out << "<div><div class=\"label\">" << Esc{tr(L, "Grade")} << "</div><div class=\"grade "
      << (m.grade_cap ? (m.grade_cap->grade == "C" ? "warn" : "bad") : tone(m.score)) << "\" data-stat=\"grade\">" << Esc{m.grade}
      << "</div><p><span class=\"num\">" << m.tally.passed << " / " << m.tally.checks << "</span> "
      << Esc{tr(L, "checks passed")} << "</p></div></div>";
  if (m.grade_cap) {
    out << "<p class=\"gradecap\" data-stat=\"grade-cap\"><strong>" << Esc{tr(L, "Grade cap")} << "</strong> "
        << Esc{m.score_grade} << " &rarr; " << Esc{m.grade_cap->grade} << ": " << Esc{m.grade_cap->reason} << "</p>";
  }
  out << "<p class=\"foot\">"
      << Esc{tr(L,
                "Polaris formula: 2 points per passed check; a failed low or medium check costs 1, "
                "a failed high or critical check 2.")}
      << "</p></div>";
}

// Failed checks by severity, and the rules that failed on the most resources.
void write_severity_card(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  out << "<div class=\"card\"><h3>" << Esc{tr(L, "Failed checks by severity")}
      << "</h3><div class=\"sev\">";
  for (Severity sev : kSeveritiesDesc) {
    const std::uint64_t n = m.by_severity[static_cast<std::size_t>(sev)];
    out << "<div class=\"tile c-" << to_string(sev) << (n ? "" : " zero")
        << "\"><span class=\"n num\" data-stat=\"sev-" << to_string(sev) << "\">" << n
        << "</span><span class=\"t\">" << Esc{tr(L, to_string(sev))} << "</span></div>";
  }
  out << "</div>";

  std::vector<std::size_t> top;
  for (std::size_t i = 0; i < s.rules.size(); ++i)
    if (s.tallies[i].failed) top.push_back(i);
  std::stable_sort(top.begin(), top.end(), [&](std::size_t a, std::size_t b) {
    if (s.tallies[a].failed != s.tallies[b].failed)
      return s.tallies[a].failed > s.tallies[b].failed;
    return s.rules[a]->severity > s.rules[b]->severity;
  });
  if (top.size() > 5) top.resize(5);
  if (!top.empty()) {
    out << "<h4 class=\"sub\">" << Esc{tr(L, "Most failed checks")}
        << "</h4><table class=\"kv worst\"><thead><tr>"
        << "<th scope=\"col\">" << Esc{tr(L, "Rule")} << "</th><th scope=\"col\" class=\"r\">"
        << Esc{tr(L, "Failed")} << "</th></tr></thead><tbody>";
    for (std::size_t i : top) {
      const RuleInfo& r = *s.rules[i];
      out << "<tr><th scope=\"row\"><span class=\"dot c-" << to_string(r.severity) << "\" title=\""
          << Esc{tr(L, to_string(r.severity))} << "\"></span>" << Esc{r.title_in(L)}
          << " <code class=\"muted\">" << Esc{r.id} << "</code></th><td class=\"r num\">"
          << s.tallies[i].failed << " / " << s.tallies[i].evaluated << "</td></tr>";
    }
    out << "</tbody></table>";
  }
  out << "</div>";
}

void write_results_card(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  out << "<div class=\"card\"><h3>" << Esc{tr(L, "Results")}
      << "</h3><div><span class=\"big num\" data-stat=\"checks\">" << m.tally.checks
      << "</span> <span class=\"label\">" << Esc{tr(L, "checks evaluated")} << "</span></div>";
  struct Part {
    std::string_view id, stat, label;
    std::uint64_t n;
  };
  const Part parts[] = {{"pass", "passed", tr(L, "Passed"), m.tally.passed},
                        {"fail", "failed", tr(L, "Failed"), m.tally.failed},
                        {"exempt", "exempted", tr(L, "Exempted"), m.tally.exempted}};
  out << "<div class=\"stack\" aria-hidden=\"true\">";
  for (const Part& p : parts) {
    if (p.n) {
      out << "<span class=\"bg-" << p.id
          << "\" style=\"width:" << fixed1(ratio(p.n, m.tally.checks)) << "%\"></span>";
    }
  }
  out << "</div><table class=\"kv\"><tbody>";
  for (const Part& p : parts) {
    out << "<tr><th scope=\"row\"><span class=\"dot c-" << p.id << "\"></span>" << Esc{p.label}
        << "</th><td class=\"r num\" data-stat=\"" << p.stat << "\">" << p.n
        << "</td><td class=\"r num muted\">" << percent(p.n, m.tally.checks) << "</td></tr>";
  }
  char size[32];
  std::snprintf(size, sizeof size, "%.1f KiB", static_cast<double>(s.bytes) / 1024.0);
  out << "</tbody></table><h4 class=\"sub\">" << Esc{tr(L, "Scanned")}
      << "</h4><table class=\"kv\"><tbody>"
      << "<tr><th scope=\"row\">" << Esc{tr(L, "Resources")} << "</th><td class=\"r num\">"
      << s.objects << "</td></tr><tr><th scope=\"row\">" << Esc{tr(L, "Documents")}
      << "</th><td class=\"r num\">" << s.documents << "</td></tr><tr><th scope=\"row\">"
      << Esc{tr(L, "Input size")} << "</th><td class=\"r num\">" << size
      << "</td></tr></tbody></table></div>";
}

void write_categories_card(const ReportModel& m, std::ostream& out) {
  const Lang L = m.lang;
  out << "<div class=\"card\" id=\"categories\"><h3>" << Esc{tr(L, "By category")}
      << "<span class=\"legend\"><span><span class=\"dot c-pass\"></span>" << Esc{tr(L, "Passed")}
      << "</span><span><span class=\"dot c-fail\"></span>" << Esc{tr(L, "Failed")}
      << "</span></span></h3>"
      << "<div class=\"cats\">";
  for (const CategoryReport& c : m.categories) {
    const Tally& t = c.tally;
    const std::string_view id = to_string(c.category);
    out << "<div class=\"name\" data-category=\"" << id << "\">"
        << Esc{tr(L, category_title(c.category))}
        << "</div><div class=\"stack\" role=\"img\" aria-label=\"" << Esc{tr(L, "Passed")} << ' '
        << t.passed << ", " << Esc{tr(L, "Failed")} << ' ' << t.failed << "\">";
    if (t.passed) {
      out << "<span class=\"bg-pass\" style=\"width:" << fixed1(ratio(t.passed, t.checks))
          << "%\"></span>";
    }
    if (t.failed) {
      out << "<span class=\"bg-fail\" style=\"width:" << fixed1(ratio(t.failed, t.checks))
          << "%\"></span>";
    }
    out << "</div><div class=\"cnt num\"><span data-stat=\"cat-" << id << "-passed\">" << t.passed
        << "</span> " << Esc{tr(L, "passed")} << " &middot; <span data-stat=\"cat-" << id
        << "-failed\">" << t.failed << "</span> " << Esc{tr(L, "failed")} << "</div>";
    if (t.checks) {
      out << "<div><span class=\"pill " << tone(c.score) << " num\" data-stat=\"cat-" << id
          << "-score\" title=\"" << Esc{tr(L, "Score")} << "\">" << c.score << "</span></div>";
    } else {
      out << "<div><span class=\"pill none\" title=\"" << Esc{tr(L, "no checks")}
          << "\">&ndash;</span></div>";
    }
  }
  out << "</div><p class=\"foot\">"
      << Esc{tr(L, "Bars: share of passed and failed checks; badge: category score.")}
      << "</p></div>";
}

// Resources by kind, largest first.
void write_resources_card(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  std::vector<std::pair<std::string_view, std::uint64_t>> kinds(s.kinds.begin(), s.kinds.end());
  std::stable_sort(kinds.begin(), kinds.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  out << "<div class=\"card\" id=\"resources\"><h3>" << Esc{tr(L, "Resources by kind")}
      << "</h3><table class=\"kv\"><thead><tr><th scope=\"col\">" << Esc{tr(L, "Kind")}
      << "</th><th scope=\"col\" class=\"r\">" << Esc{tr(L, "Count")}
      << "</th><th scope=\"col\" class=\"r\">" << Esc{tr(L, "Percent")}
      << "</th><th scope=\"col\"><span class=\"skip\">" << Esc{tr(L, "Percent")}
      << "</span></th></tr></thead><tbody>";
  for (const auto& [kind, count] : kinds) {
    const double p = ratio(count, s.objects);
    out << "<tr data-kind=\"" << Esc{kind} << "\"><th scope=\"row\">" << Esc{kind}
        << "</th><td class=\"r num\" data-stat=\"count\">" << count
        << "</td><td class=\"r num muted\">" << fixed1(p)
        << "%</td><td class=\"bar\"><span class=\"mini\" aria-hidden=\"true\"><span style=\"width:"
        << fixed1(p) << "%\"></span></span></td></tr>";
  }
  out << "</tbody><tfoot><tr><th scope=\"row\">" << Esc{tr(L, "Total")}
      << "</th><td class=\"r num\" data-stat=\"objects\">" << s.objects
      << "</td><td class=\"r num muted\">" << (s.objects ? "100.0%" : "0.0%")
      << "</td><td></td></tr></tfoot></table></div>";
}

// Failed checks (resource × rule, counted once however many fields failed)
// by namespace and category. A cell links to the findings it counts.
void write_matrix_card(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  // One column per category of the result; a failure of a rule in a category
  // the result does not list counts in no column.
  const std::size_t kCats = m.categories.size();
  std::map<std::string, std::vector<std::uint64_t>, std::less<>> cells;
  // The rules counted per resource (file, kind, namespace, name; views into
  // the findings): a few pointers per resource, not a string per check.
  using Resource = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>;
  std::map<Resource, std::vector<const RuleInfo*>> counted;
  std::vector<const RuleInfo*>* rules = nullptr;
  Resource last;
  for (const FindingView f : s.findings) {
    if (f.result != Result::Fail) continue;
    const Resource here{f.location.file, f.kind, f.ns, f.name};
    if (!rules || here != last) {  // findings of one resource are neighbours
      rules = &counted[here];
      last = here;
    }
    if (std::find(rules->begin(), rules->end(), f.rule) != rules->end()) continue;
    rules->push_back(f.rule);
    auto row_it = cells.find(f.ns);
    if (row_it == cells.end()) row_it = cells.emplace(std::string(f.ns), std::vector<std::uint64_t>{}).first;
    auto& row = row_it->second;
    row.resize(kCats);
    const std::size_t c = m.category_position(f.rule->category);
    if (c < kCats) ++row[c];
  }
  std::vector<std::string> namespaces;
  for (const auto& [ns, row] : cells)
    if (!ns.empty()) namespaces.push_back(ns);
  if (cells.count("")) namespaces.emplace_back();  // cluster-scoped last
  std::uint64_t max = 1;
  for (const auto& [ns, row] : cells)
    for (std::uint64_t n : row) max = std::max(max, n);

  out << "<div class=\"card\" id=\"matrix\"><h3 id=\"h-matrix\">"
      << Esc{tr(L, "Failed checks by namespace and category")} << "</h3>";
  if (namespaces.empty()) {
    out << "<p class=\"muted\">" << Esc{tr(L, "No failed checks.")} << "</p></div>";
    return;
  }
  out << "<div class=\"scroll\"><table class=\"matrix\" "
         "aria-labelledby=\"h-matrix\"><thead><tr><th scope=\"col\" "
         "class=\"l\">"
      << Esc{tr(L, "Namespace")} << "</th>";
  for (const CategoryReport& c : m.categories)
    out << "<th scope=\"col\">" << Esc{tr(L, category_title(c.category))} << "</th>";
  out << "<th scope=\"col\">" << Esc{tr(L, "Total")} << "</th></tr></thead><tbody>";
  std::vector<std::uint64_t> column_totals(kCats);
  for (const std::string& ns : namespaces) {
    const auto& row = cells.at(ns);
    const std::string_view ns_label = ns.empty() ? tr(L, "cluster-scoped") : std::string_view(ns);
    out << "<tr data-ns=\"" << Esc{ns} << "\"><th scope=\"row\""
        << (ns.empty() ? " class=\"muted\"" : "") << ">" << Esc{ns_label} << "</th>";
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < kCats; ++i) {
      const std::uint64_t n = row[i];
      total += n;
      column_totals[i] += n;
      if (!n) {
        out << "<td>0</td>";
        continue;
      }
      // Five steps of red; text stays readable (WCAG AA) on each.
      const auto heat = (5 * n + max - 1) / max;  // 1..5
      out << "<td class=\"h" << std::min<std::uint64_t>(heat, 5)
          << "\"><a href=\"#details\" data-ns=\"" << Esc{ns} << "\" data-cat=\""
          << to_string(m.categories[i].category) << "\" title=\"" << Esc{ns_label} << " &middot; "
          << Esc{tr(L, category_title(m.categories[i].category))} << "\">" << n << "</a></td>";
    }
    out << "<td class=\"tot num\">" << total << "</td></tr>";
  }
  out << "</tbody>";
  if (namespaces.size() > 1) {
    out << "<tfoot><tr><th scope=\"row\">" << Esc{tr(L, "Total")} << "</th>";
    for (std::uint64_t n : column_totals) out << "<td class=\"tot num\">" << n << "</td>";
    out << "<td class=\"tot num\">"
        << std::accumulate(column_totals.begin(), column_totals.end(), std::uint64_t{0})
        << "</td></tr></tfoot>";
  }
  const std::uint64_t all =
      std::accumulate(column_totals.begin(), column_totals.end(), std::uint64_t{0});
  out << "</table></div><p class=\"foot\">" << Esc{tr(L, "Failed checks")}
      << ": <span class=\"num\" "
      << "data-stat=\"matrix-total\">" << all << "</span> &middot; "
      << Esc{tr(L, "Select a cell to filter the findings.")} << "</p></div>";
}

// One row per reference scope (folder or file), each with its own verdict, so
// alternatives scanned together (insecure/, hardened/) read apart.
void write_scopes_card(const ReportModel& m, std::ostream& out) {
  const Lang L = m.lang;
  out << "<div class=\"card scopes\" data-stat=\"scopes\"><h3>" << Esc{tr(L, "Scopes")} << "</h3><p class=\"foot\">--scope "
      << Esc{to_string(m.result->scope_mode)} << ": " << Esc{scope_explanation(*m.result, L)}
      << "</p><table class=\"kv\"><thead><tr><th></th><th>" << Esc{tr(L, "Scope")} << "</th><th class=\"r\">"
      << Esc{tr(L, "Score")} << "</th><th class=\"r\">" << Esc{tr(L, "Grade")} << "</th><th class=\"r\">"
      << Esc{tr(L, "Failed")} << "</th><th class=\"r\">" << Esc{tr(L, "Critical")} << "</th><th class=\"r\">"
      << Esc{tr(L, "High")} << "</th><th class=\"r\">" << Esc{tr(L, "Resources")} << "</th></tr></thead><tbody>";
  for (const ScopeReport& sc : m.scopes) {
    const bool failed = sc.tally.failed > 0;
    out << "<tr data-scope=\"" << Esc{sc.name} << "\"><td><span class=\"pill " << (failed ? "bad" : "good") << "\">"
        << Esc{tr(L, failed ? "fail" : "pass")} << "</span></td><td><code>" << Esc{scope_label(sc, L)}
        << "</code></td><td class=\"r num\">" << sc.grading.score << "</td><td class=\"r\">" << Esc{sc.grading.grade}
        << "</td><td class=\"r num\">" << sc.tally.failed << "</td><td class=\"r num\">" << sc.by_severity[3]
        << "</td><td class=\"r num\">" << sc.by_severity[2] << "</td><td class=\"r num\">" << sc.objects
        << "</td></tr>";
  }
  out << "</tbody></table></div>";
}

// --framework: each control, its status, compliance and rules.
void write_framework(const ReportModel& m, std::ostream& out) {
  const Lang L = m.lang;
  const FrameworkView& fw = *m.framework;
  out << "<section id=\"framework\" aria-labelledby=\"h-framework\"><div class=\"card\" data-stat=\"framework\" "
         "data-framework=\""
      << Esc{fw.id} << "\"><h3 id=\"h-framework\">" << Esc{tr(L, "Framework")} << ": " << Esc{fw.title}
      << "</h3><p><strong>" << Esc{tr(L, "Compliance")} << "</strong> <span class=\"num\" data-stat=\"framework-score\">"
      << (fw.score ? std::to_string(*fw.score) + "%" : std::string(tr(L, "not applicable"))) << "</span> &middot; "
      << Esc{framework_summary(fw, L)} << "</p><table class=\"kv fwt\"><thead><tr><th>" << Esc{tr(L, "Control")}
      << "</th><th>" << Esc{tr(L, "Status")} << "</th><th class=\"r\">" << Esc{tr(L, "Compliance")} << "</th><th>"
      << Esc{tr(L, "Rules")} << "</th></tr></thead><tbody>";
  for (const FrameworkControl& c : fw.controls) {
    const std::string_view tone = c.status == ControlStatus::Fail ? "bad" : c.status == ControlStatus::Pass ? "good" : "warn";
    out << "<tr data-control=\"" << Esc{c.id} << "\"><td><code>" << Esc{c.id} << "</code> " << Esc{c.title}
        << "</td><td><span class=\"pill " << tone << "\">" << Esc{tr(L, to_string(c.status))}
        << "</span></td><td class=\"r num\">" << (c.score ? std::to_string(*c.score) + "%" : std::string("-"))
        << "</td><td>";
    for (std::size_t i = 0; i < c.rules.size(); ++i)
      out << (i ? ", " : "") << "<code>" << Esc{c.rules[i].rule->id} << "</code>";
    out << "</td></tr>";
  }
  out << "</tbody></table><p class=\"foot\">"
      << Esc{tr(L, "Compliance: passed / (passed + failed) resource checks of the control's rules; overall: the mean over applicable controls.")}
      << "</p></div></section>";
}

void write_overview(const ReportModel& m, std::ostream& out) {
  out << "<section id=\"overview\" aria-labelledby=\"h-overview\"><h2 id=\"h-overview\">"
      << Esc{tr(m.lang, "Overview")} << "</h2>";
  if (!m.scopes.empty()) write_scopes_card(m, out);
  out << "<div class=\"grid g3\">";
  write_score_card(m, out);
  write_severity_card(m, out);
  write_results_card(m, out);
  out << "</div><div class=\"grid g2\"><div class=\"col\">";
  write_categories_card(m, out);
  write_matrix_card(m, out);
  out << "</div>";
  write_resources_card(m, out);
  out << "</div></section>";
}

void write_details(const ReportModel& m, std::ostream& out) {
  const Lang L = m.lang;
  out << "<section id=\"details\" aria-labelledby=\"h-details\"><div class=\"card\"><h3 "
         "id=\"h-details\">"
      << Esc{tr(L, "Details by workload")} << "</h3><div class=\"filters\" role=\"search\">"
      << "<label for=\"f-text\">" << Esc{tr(L, "Search")}
      << "<input type=\"search\" id=\"f-text\" placeholder=\""
      << Esc{tr(L, "name, message, file...")} << "\" autocomplete=\"off\"></label>";
  const std::pair<std::string_view, std::string_view> selects[] = {
      {"f-namespace", "Namespace"}, {"f-kind", "Kind"}, {"f-category", "Category"},
      {"f-severity", "Severity"},   {"f-rule", "Rule"}, {"f-result", "Result"}};
  for (const auto& [id, label] : selects) {
    out << "<label for=\"" << id << "\">" << Esc{tr(L, label)} << "<select id=\"" << id
        << "\"></select></label>";
  }
  out << "<div class=\"fbar\"><button type=\"button\" class=\"btn no-print\" id=\"f-reset\">"
      << Esc{tr(L, "Clear filters")}
      << "</button><div class=\"count\" role=\"status\" aria-live=\"polite\"><strong "
         "id=\"count-visible\" class=\"num\">"
      << m.result->findings.size() << "</strong> / <span id=\"count-total\" class=\"num\">"
      << m.result->findings.size() << "</span> " << Esc{tr(L, "findings shown")}
      << "</div></div></div>";
  out << "<div class=\"scroll tablewrap\"><table class=\"findings\"><caption class=\"skip\">"
      << Esc{tr(L, "Details by workload")}
      << "</caption><thead><tr><th scope=\"col\" class=\"tg\"><span class=\"skip\">"
      << Esc{tr(L, "Details")} << "</span></th>";
  const std::pair<std::string_view, std::string_view> columns[] = {
      {"severity", "Severity"}, {"kind", "Kind"},           {"namespace", "Namespace"},
      {"name", "Name"},         {"container", "Container"}, {"category", "Category"},
      {"rule", "Rule"},         {"result", "Result"},       {"message", "Message"},
      {"location", "Location"}};
  for (const auto& [key, label] : columns) {
    out << "<th scope=\"col\" data-key=\"" << key << "\"><button type=\"button\">"
        << Esc{tr(L, label)} << "</button></th>";
  }
  out << "</tr></thead><tbody id=\"rows\"></tbody></table></div><div class=\"more no-print\" "
         "id=\"more\" hidden><span "
         "id=\"more-text\"></span> <button type=\"button\" class=\"btn\" id=\"more-page\">"
      << Esc{tr(L, "Show more")}
      << "</button> <button type=\"button\" class=\"btn\" id=\"more-all\">"
      << Esc{tr(L, "Show all")} << "</button></div><p class=\"empty\" id=\"empty\" hidden>"
      << Esc{m.result->findings.empty() ? tr(L, "No failed checks.")
                                      : tr(L, "No findings match the filters.")}
      << "</p><noscript><p class=\"empty\">" << Esc{tr(L, "The findings table needs JavaScript.")}
      << "</p></noscript></div></section>";
}

// A live cluster scan: the server, its version and counts, and what could not
// be read (coverage), so a clean report from a narrow identity is not
// mistaken for a clean cluster.
void write_cluster(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  if (!s.has_coverage_section()) return;
  const Lang L = m.lang;
  const std::vector<CoverageGap>& gaps = s.coverage_gaps();
  out << "<section id=\"cluster\" aria-labelledby=\"h-cluster\"><div class=\"card\"><h3 "
         "id=\"h-cluster\">"
      << Esc{tr(L, s.cluster ? "Cluster" : "Coverage")} << "</h3>";
  if (s.cluster) {
    const ClusterInfo& c = *s.cluster;
    out << "<table class=\"kv\"><tbody><tr><th scope=\"row\">"
      << Esc{tr(L, "Cluster")} << "</th><td data-stat=\"cluster-server\"><code>" << Esc{c.server}
      << "</code>" << (c.context.empty() ? "" : " (") << Esc{c.context} << (c.context.empty() ? "" : ")")
      << "</td></tr><tr><th scope=\"row\">Kubernetes</th><td data-stat=\"cluster-version\">"
      << Esc{c.server_version} << "</td></tr><tr><th scope=\"row\">" << Esc{tr(L, "Resources")}
      << "</th><td data-stat=\"cluster-counts\">" << Esc{cluster_counts(c, L)}
      << "</td></tr><tr><th scope=\"row\">" << Esc{tr(L, "Scope")} << "</th><td>"
      << Esc{cluster_scope(c, L)} << "</td></tr></tbody></table><h4 id=\"coverage\">"
      << Esc{tr(L, "Coverage")} << "</h4>";
  }
  if (gaps.empty()) {
    out << "<p data-stat=\"coverage-gaps\" data-count=\"0\">"
        << Esc{tr(L, "Everything kguard needs could be read.")} << "</p>";
  } else {
    out << "<table class=\"kv errors\" data-stat=\"coverage-gaps\" data-count=\"" << gaps.size()
        << "\"><thead><tr><th scope=\"col\">" << Esc{tr(L, "Resource")} << "</th><th scope=\"col\">"
        << Esc{tr(L, "Message")} << "</th><th scope=\"col\">" << Esc{tr(L, "Rule")}
        << "</th></tr></thead><tbody>";
    for (const CoverageGap& g : gaps) {
      out << "<tr><td>" << Esc{coverage_where(g, L)} << "</td><td>" << Esc{g.reason}
          << (g.message.empty() ? "" : ": ") << Esc{g.message} << "</td><td>";
      for (std::size_t i = 0; i < g.rules.size(); ++i) out << (i ? ", " : "") << "<code>" << Esc{g.rules[i]} << "</code>";
      out << "</td></tr>";
    }
    out << "</tbody></table>";
  }
  out << "</div></section>";
}

// East-west traffic per namespace: mesh mTLS and authorization,
// NetworkPolicy default deny (docs/mesh.md).
void write_east_west(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  if (!s.east_west) return;
  const Lang L = m.lang;
  const EastWestPosture& ew = *s.east_west;
  out << "<section id=\"east-west\" aria-labelledby=\"h-east-west\"><div class=\"card\"><h3 id=\"h-east-west\">"
      << Esc{tr(L, "East-west traffic")} << "</h3><p data-stat=\"meshes\" data-count=\"" << ew.meshes.size() << "\">"
      << Esc{east_west_meshes(ew, L)} << "</p><p class=\"sub\">"
      << Esc{tr(L, "mTLS STRICT with a default-deny authorization (mesh), an ingress default-deny NetworkPolicy (isolation only), both, or neither")}
      << "</p><table class=\"kv\" data-stat=\"east-west\" data-count=\"" << ew.namespaces.size()
      << "\"><thead><tr><th scope=\"col\">" << Esc{tr(L, "Namespace")} << "</th><th scope=\"col\">"
      << Esc{tr(L, "Workloads")} << "</th><th scope=\"col\">" << Esc{tr(L, "Meshed")} << "</th><th scope=\"col\">"
      << Esc{tr(L, "Mesh")} << "</th><th scope=\"col\">mTLS</th><th scope=\"col\">" << Esc{tr(L, "Authorization")}
      << "</th><th scope=\"col\">NetworkPolicy</th><th scope=\"col\">" << Esc{tr(L, "Protected by")}
      << "</th></tr></thead><tbody>";
  for (const NamespaceTraffic& t : ew.namespaces) {
    out << "<tr data-protected-by=\"" << Esc{t.protected_by} << "\"><td><code>" << Esc{east_west_row_name(t, L)}
        << "</code></td><td>" << t.workloads << "</td><td>" << t.meshed << "</td><td>" << Esc{east_west_value(t.mesh, L)}
        << "</td><td>" << Esc{east_west_value(t.mtls, L)} << "</td><td>" << Esc{east_west_value(t.authorization, L)}
        << "</td><td>" << Esc{east_west_value(t.network_policy, L)} << "</td><td><strong>"
        << Esc{east_west_value(t.protected_by, L)} << "</strong></td></tr>";
  }
  out << "</tbody></table></div></section>";
}

void write_errors(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  if (s.errors.empty()) return;
  const Lang L = m.lang;
  out << "<section id=\"errors\" aria-labelledby=\"h-errors\"><div class=\"card\"><h3 "
         "id=\"h-errors\">"
      << Esc{tr(L, "Input errors")}
      << "</h3><table class=\"kv errors\"><thead><tr><th scope=\"col\">" << Esc{tr(L, "Location")}
      << "</th><th scope=\"col\">" << Esc{tr(L, "Message")} << "</th></tr></thead><tbody>";
  for (const InputError& e : s.errors) {
    out << "<tr><td><code>" << Esc{e.file};
    if (e.line) out << ':' << e.line << ':' << e.column;
    out << "</code></td><td>" << Esc{e.message} << "</td></tr>";
  }
  out << "</tbody></table></div></section>";
}

// The Images section: each image's vulnerabilities, highest risk first, as
// a plain table (no script needed), suppressed rows with who and why.
void write_vulnerabilities(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  if (s.vulnerabilities.empty()) return;
  const Lang L = m.lang;
  out << "<section id=\"vulnerabilities\" aria-labelledby=\"h-vulns\"><h2 id=\"h-vulns\">"
      << Esc{tr(L, "Vulnerabilities by image")} << "</h2>";
  for (const ImageVulnerabilities& iv : s.vulnerabilities) {
    const VulnCounts c = count_vulns(iv);
    out << "<div class=\"card\" data-image=\"" << Esc{iv.reference} << "\"><h3><code>" << Esc{iv.reference}
        << "</code>";
    if (!iv.os.empty()) out << " &middot; " << Esc{iv.os};
    out << "</h3><p>" << c.open << ' ' << Esc{tr(L, "vulnerabilities")} << " (" << c.by_severity[3] << ' '
        << Esc{tr(L, "critical")} << ", " << c.by_severity[2] << ' ' << Esc{tr(L, "high")} << ", " << c.by_severity[1]
        << ' ' << Esc{tr(L, "medium")} << ", " << c.by_severity[0] << ' ' << Esc{tr(L, "low")} << "), " << c.suppressed
        << ' ' << Esc{tr(L, "suppressed")};
    if (!iv.db_built_at.empty()) out << "; " << Esc{tr(L, "database built")} << ' ' << Esc{iv.db_built_at};
    out << "</p>";
    for (const ImageUse* u : image_users(s, iv.reference))
      out << "<p class=\"sub\">" << Esc{tr(L, "used by")} << ' ' << Esc{user_text(*u, L)} << "</p>";
    for (const std::string& n : iv.notes) out << "<p class=\"sub\">" << Esc{note_text(n, L, s.messages_zh)} << "</p>";
    if (iv.matches.empty()) {
      out << "<p>" << Esc{tr(L, "No known vulnerabilities.")} << "</p></div>";
      continue;
    }
    out << "<div class=\"scroll tablewrap\"><table class=\"kv vulns\"><thead><tr>";
    for (std::string_view h : {"ID", "Severity", "Risk", "CVSS", "Package", "Installed", "Fixed", "Why"})
      out << "<th scope=\"col\">" << Esc{tr(L, h)} << "</th>";
    out << "</tr></thead><tbody>";
    for (const VulnMatch& v : iv.matches) {
      std::string why = why_text(v);
      if (v.suppressed) why = suppression_text(v, L);
      out << "<tr" << (v.suppressed ? " class=\"suppressed\"" : "") << "><td><code>" << Esc{v.id}
          << "</code></td><td>" << Esc{tr(L, to_string(v.severity))} << "</td><td class=\"num\">" << decimal(v.risk)
          << "</td><td class=\"num\" title=\"" << Esc{v.cvss_vector} << "\">" << decimal(v.cvss_score)
          << "</td><td>" << Esc{v.package_name} << "</td><td>" << Esc{v.installed_version} << "</td><td>"
          << Esc{fixed_text(v, L)} << "</td><td>" << Esc{why} << "</td></tr>";
    }
    out << "</tbody></table></div></div>";
  }
  out << "</section>";
}

// The escalation paths (findings of rules tagged rbac-path, engines/rbac):
// each drawn as an inline SVG chain from the identity to its target, read
// from the finding's subject ("A ─[permission]→ B ─[…]→ C"). No script.
void write_escalation_paths(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  constexpr std::string_view kOpen = " \u2500[", kClose = "]\u2192 ";
  bool any = false;
  for (const FindingView f : s.findings) {
    if (!f.rule || !f.rule->has_tag("rbac-path") || f.subject.empty()) continue;
    // Nodes and the permissions between them.
    std::vector<std::string_view> nodes, steps;
    std::string_view rest = f.subject;
    for (;;) {
      const auto open = rest.find(kOpen);
      if (open == std::string_view::npos) break;
      const auto close = rest.find(kClose, open);
      if (close == std::string_view::npos) break;
      nodes.push_back(rest.substr(0, open));
      steps.push_back(rest.substr(open + kOpen.size(), close - open - kOpen.size()));
      rest = rest.substr(close + kClose.size());
    }
    nodes.push_back(rest);
    if (!any) {
      out << "<section id=\"escalation-paths\" aria-labelledby=\"h-paths\"><h2 id=\"h-paths\">"
          << Esc{tr(L, "Escalation paths")} << "</h2>";
      any = true;
    }
    constexpr int kBox = 34, kGap = 46, kWidth = 880;
    const int height = static_cast<int>(nodes.size()) * kBox + static_cast<int>(steps.size()) * kGap + 8;
    out << "<div class=\"card\"><h3>" << Esc{f.rule->title_in(L)} << "</h3><svg role=\"img\" width=\"100%\" viewBox=\"0 0 "
        << kWidth << ' ' << height << "\" aria-label=\"" << Esc{f.subject} << "\">";
    int y = 4;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const bool last = i + 1 == nodes.size();
      out << "<rect x=\"4\" y=\"" << y << "\" width=\"420\" height=\"" << kBox - 6 << "\" rx=\"6\" fill=\""
          << (last ? "#fde2e2" : i == 0 ? "#e2ecfd" : "#f2f2f2") << "\" stroke=\"#888\"/><text x=\"14\" y=\"" << y + 19
          << "\" font-size=\"13\">" << Esc{nodes[i]} << "</text>";
      y += kBox;
      if (i < steps.size()) {
        out << "<line x1=\"40\" y1=\"" << y - 6 << "\" x2=\"40\" y2=\"" << y + kGap - 8
            << "\" stroke=\"#c0392b\" stroke-width=\"2\"/><path d=\"M34 " << y + kGap - 14 << " L40 " << y + kGap - 6
            << " L46 " << y + kGap - 14 << "\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\"/><text x=\"56\" y=\""
            << y + kGap / 2 << "\" font-size=\"12\" fill=\"#444\">" << Esc{steps[i]} << "</text>";
        y += kGap;
      }
    }
    out << "</svg><p class=\"sub\">" << Esc{f.kind} << ' ' << Esc{f.ns.empty() ? std::string(f.name) : std::string(f.ns) + "/" + std::string(f.name)}
        << "</p></div>";
  }
  if (any) out << "</section>";
}

// What the input walk left out, and why (docs/configuration.md).
void write_skipped(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  if (s.skipped.empty()) return;
  const Lang L = m.lang;
  out << "<section id=\"skipped\" aria-labelledby=\"h-skipped\"><div class=\"card\"><h3 "
         "id=\"h-skipped\">"
      << Esc{tr(L, "Skipped")} << " (" << s.skipped.size()
      << ")</h3><table class=\"kv\"><thead><tr><th scope=\"col\">" << Esc{tr(L, "Location")}
      << "</th><th scope=\"col\">" << Esc{tr(L, "Message")} << "</th></tr></thead><tbody>";
  for (const InputError& e : s.skipped) {
    out << "<tr><td><code>" << Esc{e.file};
    if (e.line) out << ':' << e.line;
    out << "</code></td><td>" << Esc{e.message} << "</td></tr>";
  }
  out << "</tbody></table></div></section>";
}

}  // namespace

void write_html_report(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  std::string sources;
  for (std::size_t i = 0; i < s.inputs.size(); ++i) (sources += i ? ", " : "") += s.inputs[i];
  const std::string policy = policy_text(s, L);

  out << "<!DOCTYPE html>\n<html lang=\"" << lang_code(L) << "\"><head><meta charset=\"utf-8\">"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
         "'unsafe-inline'; "
         "script-src 'unsafe-inline'; img-src data:\">"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      << "<meta name=\"generator\" content=\"kguard " << Esc{m.tool_version} << "\">"
      << "<link rel=\"icon\" href=\"data:,\"><title>" << Esc{tr(L, "kguard inspection report")}
      << " &middot; " << m.score << " (" << Esc{m.grade} << ")</title><style>" << kCss
      << "</style></head><body>"
      << "<a class=\"skip\" href=\"#details\">" << Esc{tr(L, "Skip to findings")} << "</a>";

  out << "<header class=\"top\"><div class=\"wrap\"><div class=\"brand\">"
      << "<svg width=\"34\" height=\"34\" viewBox=\"0 0 34 34\" aria-hidden=\"true\"><rect "
         "width=\"34\" height=\"34\" "
         "rx=\"8\" fill=\"#1e3a8a\"/><path d=\"M17 7l8 3v6c0 5-3.4 8.6-8 10-4.6-1.4-8-5-8-10v-6z\" "
         "fill=\"none\" "
         "stroke=\"#fff\" stroke-width=\"1.8\" stroke-linejoin=\"round\"/><path d=\"M13.5 16.8l2.5 "
         "2.5 4.8-5\" "
         "fill=\"none\" stroke=\"#fff\" stroke-width=\"1.8\" stroke-linecap=\"round\" "
         "stroke-linejoin=\"round\"/></svg>"
      << "<div><h1>" << Esc{tr(L, "kguard inspection report")} << "</h1><div class=\"sub\">kguard "
      << Esc{m.tool_version} << "</div></div></div><dl class=\"meta\"><div><dt>"
      << Esc{tr(L, "Source")} << "</dt><dd data-stat=\"source\">" << Esc{sources}
      << "</dd></div><div><dt>" << Esc{tr(L, "Generated")} << "</dt><dd><time datetime=\""
      << Esc{m.generated_at} << "\">" << Esc{m.generated_at} << "</time></dd></div><div><dt>"
      << Esc{tr(L, "Policy")} << "</dt><dd>" << Esc{policy}
      << "</dd></div></dl><button type=\"button\" class=\"btn no-print\" id=\"print\">"
      << Esc{tr(L, "Print")} << "</button></div></header><main class=\"wrap\">";

  write_overview(m, out);
  write_cluster(m, out);
  if (m.framework) write_framework(m, out);
  write_details(m, out);
  write_vulnerabilities(m, out);
  write_escalation_paths(m, out);
  write_east_west(m, out);
  write_errors(m, out);
  write_skipped(m, out);

  out << "</main><footer class=\"wrap\"><p>" << Esc{tr(L, "kguard inspection report")}
      << " &middot; kguard " << Esc{m.tool_version} << " &middot; " << Esc{m.generated_at}
      << "</p></footer>"
      << "<script type=\"application/json\" id=\"kguard-data\">";
  write_data(m, out);
  out << "</script><script>" << kJs << "</script></body></html>\n";
}

}  // namespace kg
