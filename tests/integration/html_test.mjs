// The HTML report in a real headless Chromium (Debian's chromium,
// driven by playwright-core): no console or page errors, no network requests,
// the numbers on the page equal the JSON report's, filtering, sorting and row
// expansion work, the Chinese report is Chinese, hostile strings stay text.
// Writes a full-page screenshot to BUILD_DIR/html-report.png.
//
// Run by ctest through run_html_test.sh:
//   node html_test.mjs --kguard BIN --source DIR --build DIR --modules DIR/node_modules [--chromium PATH]
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const need of ['kguard', 'source', 'build', 'modules'])
  if (!args[need]) throw new Error(`missing --${need}`);
const chromiumPath = args.chromium || 'chromium';  // run_html_test.sh passes the one it found
const { chromium } = createRequire(path.join(path.resolve(args.modules), 'noop.js'))('playwright-core');

// Whatever happens, give up (and let playwright kill the browser) after 4 minutes.
setTimeout(() => {
  console.error('html_test: timed out');
  process.exit(1);
}, 240_000).unref();

const outDir = path.join(path.resolve(args.build), 'html-test', 'out');
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

// kguard exits 1 when checks fail; that is expected for the examples.
function scan(name, extra, inputs) {
  const html = path.join(outDir, `${name}.html`);
  const json = path.join(outDir, `${name}.json`);
  try {
    execFileSync(path.resolve(args.kguard),
                 ['scan', '-q', ...extra, '-o', `html=${html}`, '-o', `json=${json}`, ...inputs],
                 { cwd: args.source, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
  } catch (e) {
    if (e.status !== 1) throw e;
  }
  return { html, report: JSON.parse(fs.readFileSync(json, 'utf8')) };
}

const HOSTILE = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: "x</script><img src=https://example.invalid/a.png onerror=alert(1)>"
  namespace: "<!--ns--></title>"
spec:
  template:
    spec:
      containers:
        - name: "c</td><b>"
          image: "evil</script><script>alert(2)</script>"
`;

// Enough findings that the table renders a page at a time.
function manyDeployments(n) {
  const docs = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-${i}, namespace: team-${i % 7}}
spec:
  template:
    spec:
      hostNetwork: ${i % 5 === 0}
      containers:
        - name: main
          image: registry.example.com/app${i}
          securityContext: {privileged: ${i % 3 === 0}}
        - name: sidecar
          image: envoy:latest
`);
  }
  return docs.join('---\n');
}

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}

// Opens a report, recording every request, console error, page error and dialog.
async function open(context, file) {
  const page = await context.newPage();
  const log = { requests: [], errors: [], dialogs: [] };
  page.on('request', (r) => log.requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') log.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => log.errors.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { log.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  await page.waitForSelector('html[data-ready=true]', { timeout: 15_000 });
  log.url = url;
  return { page, log };
}

function assertClean(log) {
  assert.deepEqual(log.errors, [], 'console or page errors');
  assert.deepEqual(log.dialogs, [], 'dialogs');
  assert.deepEqual(log.requests.filter((u) => u !== log.url), [], 'requests other than the report itself');
}

const stat = async (page, name) => (await page.locator(`[data-stat="${name}"]`).first().textContent()).trim();
const visibleRows = (page) =>
  page.evaluate(() => document.querySelectorAll('#rows tr.finding:not([hidden])').length);
const shownCount = async (page) => Number(await page.locator('#count-visible').textContent());

async function assertTotals(page, report, { allRows = true } = {}) {
  const o = report.overview;
  assert.equal(await stat(page, 'score'), String(o.score), 'score');
  assert.equal(await stat(page, 'grade'), o.grade, 'grade');
  for (const k of ['checks', 'passed', 'failed', 'exempted', 'objects'])
    assert.equal(await stat(page, k), String(o[k]), k);
  for (const [sev, n] of Object.entries(o.bySeverity)) assert.equal(await stat(page, `sev-${sev}`), String(n), sev);
  assert.equal(await page.locator('#resources tbody tr[data-kind]').count(), o.resources.length, 'resource kinds');
  for (const r of o.resources) {
    const row = page.locator(`#resources tr[data-kind="${r.kind}"]`);
    assert.equal((await row.locator('[data-stat=count]').textContent()).trim(), String(r.count), r.kind);
    assert.equal((await row.locator('td').nth(1).textContent()).trim(), `${r.percent.toFixed(1)}%`, r.kind);
  }
  for (const c of report.categories) {
    assert.equal(await stat(page, `cat-${c.id}-passed`), String(c.passed), `${c.id} passed`);
    assert.equal(await stat(page, `cat-${c.id}-failed`), String(c.failed), `${c.id} failed`);
    if (c.checks) assert.equal(await stat(page, `cat-${c.id}-score`), String(c.score), `${c.id} score`);
  }
  if (o.failed) assert.equal(await stat(page, 'matrix-total'), String(o.failed), 'matrix total = failed checks');
  if (allRows) {
    assert.equal(await visibleRows(page), report.findings.length, 'rows');
    assert.equal(await shownCount(page), report.findings.length, 'count');
  }
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kguard-chromium-'));
let context;
try {
  const en = scan('en', [], ['examples/']);
  const zh = scan('zh', ['--lang', 'zh'], ['examples/']);
  const hostileDir = path.join(outDir, 'hostile');
  fs.mkdirSync(hostileDir);
  fs.writeFileSync(path.join(hostileDir, 'hostile.yaml'), HOSTILE);
  const hostile = scan('hostile', [], [hostileDir]);
  const manyDir = path.join(outDir, 'many');
  fs.mkdirSync(manyDir);
  fs.writeFileSync(path.join(manyDir, 'many.yaml'), manyDeployments(60));
  const many = scan('many', [], [manyDir]);

  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(15_000);
  const contextRequests = [];
  context.on('request', (r) => contextRequests.push(r.url()));

  const { page, log } = await open(context, en.html);
  const report = en.report;
  const findings = report.findings;
  assert.ok(findings.length > 0, 'the examples have findings');

  await check('html lang and title', async () => {
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.title(), /kguard inspection report/);
  });
  await check('totals equal the JSON report', () => assertTotals(page, report));

  await check('filter by severity and namespace', async () => {
    const nsCounts = new Map();
    for (const f of findings) nsCounts.set(f.namespace, (nsCounts.get(f.namespace) || 0) + 1);
    const ns = [...nsCounts.entries()].sort((a, b) => b[1] - a[1])[0][0];
    await page.selectOption('#f-severity', '=critical');
    const critical = findings.filter((f) => f.severity === 'critical');
    assert.ok(critical.length > 0, 'the examples have a critical finding');
    assert.equal(await visibleRows(page), critical.length, 'severity=critical rows');
    assert.equal(await shownCount(page), critical.length, 'severity=critical count');
    await page.selectOption('#f-namespace', `=${ns}`);
    const both = critical.filter((f) => f.namespace === ns).length;
    assert.equal(await visibleRows(page), both, 'critical in namespace rows');
    assert.equal(await shownCount(page), both, 'critical in namespace count');
    await page.selectOption('#f-severity', '');
    assert.equal(await visibleRows(page), nsCounts.get(ns), 'namespace rows');
    const kind = findings[0].kind;
    await page.selectOption('#f-kind', `=${kind}`);
    assert.equal(await visibleRows(page),
                 findings.filter((f) => f.namespace === ns && f.kind === kind).length, 'namespace+kind rows');
    await page.click('#f-reset');
    assert.equal(await visibleRows(page), findings.length, 'reset');
  });

  await check('filter by category, rule and result; text search', async () => {
    const f0 = findings[findings.length - 1];
    await page.selectOption('#f-category', `=${f0.category}`);
    assert.equal(await visibleRows(page), findings.filter((f) => f.category === f0.category).length, 'category');
    await page.selectOption('#f-rule', `=${f0.rule}`);
    assert.equal(await visibleRows(page), findings.filter((f) => f.rule === f0.rule).length, 'rule');
    await page.selectOption('#f-result', '=fail');
    assert.equal(await visibleRows(page),
                 findings.filter((f) => f.rule === f0.rule && f.result === 'fail').length, 'result');
    await page.click('#f-reset');
    const q = f0.rule;
    await page.fill('#f-text', q);
    await page.waitForFunction((n) => document.getElementById('count-visible').textContent !== String(n),
                               findings.length).catch(() => {});
    const expected = findings.filter((f) =>
      [f.kind, f.namespace, f.name, f.container, f.rule, f.title, f.message,
       `${f.location.file}:${f.location.line}`, f.location.path].join('\n').toLowerCase().includes(q)).length;
    assert.equal(await visibleRows(page), expected, 'search');
    assert.equal(await shownCount(page), expected, 'search count');
    await page.click('#f-reset');
    assert.equal(await visibleRows(page), findings.length, 'reset');
  });

  await check('sorting by severity puts critical first', async () => {
    const rank = { critical: 3, high: 2, medium: 1, low: 0 };
    const order = () => page.evaluate(() => [...document.querySelectorAll('#rows tr.finding td:nth-child(2) .badge')]
      .map((b) => b.className.match(/b-(\w+)/)[1]));
    await page.click('th[data-key=severity] button');
    let sevs = await order();
    assert.equal(sevs.length, findings.length);
    assert.equal(sevs[0], 'critical');
    for (let i = 1; i < sevs.length; i++) assert.ok(rank[sevs[i - 1]] >= rank[sevs[i]], `order at ${i}`);
    assert.equal(await page.getAttribute('th[data-key=severity]', 'aria-sort'), 'descending');
    await page.click('th[data-key=severity] button');
    sevs = await order();
    assert.equal(sevs[0], Object.keys(rank).reverse().find((s) => findings.some((f) => f.severity === s)));
    await page.click('th[data-key=severity] button');
    assert.equal((await order())[0], 'critical');
  });

  await check('expanding a row shows the rule remediation', async () => {
    const first = page.locator('#rows tr.finding').first();
    const i = Number(await first.getAttribute('data-i'));
    await first.locator('button.tog').click();
    assert.equal(await first.locator('button.tog').getAttribute('aria-expanded'), 'true');
    const detail = page.locator(`#d${i}`);
    assert.ok(await detail.isVisible(), 'detail row visible');
    assert.equal((await detail.locator('.remediation').textContent()).trim(), findings[i].remediation);
    assert.match(await detail.textContent(), /Rationale/);
  });

  await check('an exempted finding shows its reason', async () => {
    const i = findings.findIndex((f) => f.result === 'exempt' && f.exemption && f.exemption.reason);
    if (i < 0) return;  // the examples carry no exemption
    await page.selectOption('#f-result', '=exempt');
    assert.equal(await visibleRows(page), findings.filter((f) => f.result === 'exempt').length, 'exempt rows');
    const row = page.locator(`#rows tr.finding[data-i="${i}"]`);
    await row.locator('button.tog').click();
    const text = await page.locator(`#d${i} .exemption`).textContent();
    assert.ok(text.includes(findings[i].exemption.reason), 'reason');
    if (findings[i].exemption.until) assert.ok(text.includes(findings[i].exemption.until), 'until');
    await row.locator('button.tog').click();
    assert.equal(await page.locator(`#d${i}`).count(), 0, 'collapsed');
    await page.click('#f-reset');
  });

  await check('print layout hides controls and shows all details', async () => {
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    assert.equal(await page.locator('#f-severity').isVisible(), false, 'select hidden');
    assert.equal(await page.locator('#print').isVisible(), false, 'print button hidden');
    const details = await page.evaluate(() =>
      [...document.querySelectorAll('#rows tr.detail')].filter((d) => !d.hidden).length);
    assert.equal(details, findings.length, 'every row has visible details');
    await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
    await page.emulateMedia({ media: 'screen' });
  });

  await check('no console errors, page errors or network requests (English)', async () => assertClean(log));

  await check('screenshot', async () => {
    await page.click('#f-reset');
    await page.evaluate(() => window.scrollTo(0, 0));
    const shot = path.join(path.resolve(args.build), 'html-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 10_000, 'screenshot written');
    console.log(`     screenshot: ${shot}`);
  });

  await check('Chinese report', async () => {
    const { page: zp, log: zlog } = await open(context, zh.html);
    assert.equal(await zp.getAttribute('html', 'lang'), 'zh-CN');
    const text = await zp.locator('body').innerText();
    assert.ok(text.includes('健康检查'), '健康检查');
    assert.ok(text.includes('安全'), '安全');
    assert.ok(text.includes('概览'), '概览');
    await assertTotals(zp, zh.report);
    const first = zp.locator('#rows tr.finding').first();
    await first.locator('button.tog').click();
    assert.ok(await zp.locator('tr.detail').first().isVisible());
    assertClean(zlog);
    await zp.close();
  });

  await check('hostile strings stay text', async () => {
    const { page: hp, log: hlog } = await open(context, hostile.html);
    assert.ok(hostile.report.findings.length > 0, 'the hostile manifest has findings');
    await assertTotals(hp, hostile.report);
    const names = await hp.evaluate(() => [...document.querySelectorAll('#rows tr.finding td:nth-child(5)')]
      .map((td) => td.textContent));
    assert.ok(names.includes(hostile.report.findings[0].name), 'name shown verbatim');
    assert.equal(await hp.locator('#rows img, #rows script, #rows b').count(), 0, 'no injected elements');
    assertClean(hlog);
    await hp.close();
  });

  await check('large reports render a page at a time', async () => {
    const { page: mp, log: mlog } = await open(context, many.html);
    const all = many.report.findings;
    const pageSize = Number(await mp.getAttribute('#rows', 'data-page-size'));
    assert.ok(all.length > pageSize, `more findings (${all.length}) than a page (${pageSize})`);
    assert.equal(await visibleRows(mp), pageSize, 'first page');
    assert.equal(await shownCount(mp), all.length, 'count covers every match');
    assert.ok(await mp.locator('#more').isVisible(), 'show more');
    await mp.click('#more-page');
    assert.ok(await visibleRows(mp) > pageSize, 'show more adds rows');
    await mp.click('#more-all');
    assert.equal(await visibleRows(mp), all.length, 'show all');
    assert.equal(await mp.locator('#more').isVisible(), false, 'nothing more');
    await mp.selectOption('#f-namespace', '=team-3');
    await mp.selectOption('#f-severity', '=critical');
    const n = all.filter((f) => f.namespace === 'team-3' && f.severity === 'critical').length;
    assert.ok(n > 0);
    assert.equal(await shownCount(mp), n, 'filtered count');
    assert.equal(await visibleRows(mp), Math.min(n, pageSize), 'filtered rows');
    await assertTotals(mp, many.report, { allRows: false });
    assertClean(mlog);
    await mp.close();
  });

  await check('no requests in the whole browser context', async () => {
    const files = new Set([en.html, zh.html, hostile.html, many.html].map((f) => pathToFileURL(f).href));
    assert.deepEqual(contextRequests.filter((u) => !files.has(u)), []);
  });
} finally {
  if (context) await context.close().catch((e) => console.error(`closing the browser: ${e}`));
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
