// Shared helpers for the browser tests: Debian's Chromium, the list of
// page templates, a watcher for console errors / failed or foreign
// requests, and axe-core.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { HtmlValidate, formatterFactory } from "html-validate";
import { startServer } from "./server.mjs";
import { config as htmlValidateConfig } from "./html-validate.config.mjs";

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Every page template, with the status it must answer. */
export async function templatePages(server) {
  const response = await fetch(`${server.url}/api/v1/standards?type=api&per_page=1`);
  assert.equal(response.status, 200, "GET /api/v1/standards?type=api&per_page=1");
  const body = await response.json();
  assert.ok(body.results?.length === 1, "the demo catalogue has an API entry");
  const api = body.results[0];
  assert.equal(api.type, "api", "the entry found is an API");
  return [
    { name: "home", path: "/", status: 200 },
    { name: "search", path: "/search", status: 200 },
    { name: "search with words and a filter", path: "/search?q=allergy&care_setting=hospital", status: 200 },
    { name: "standard", path: "/standards/fhir-uk-core", status: 200 },
    { name: "API entry", path: `/standards/${api.slug}`, status: 200 },
    { name: "organisations", path: "/organisations", status: 200 },
    { name: "organisation", path: "/organisations/nhs-england", status: 200 },
    { name: "care settings", path: "/care-settings", status: 200 },
    { name: "care setting", path: "/care-settings/pharmacy", status: 200 },
    { name: "topics", path: "/topics", status: 200 },
    { name: "topic", path: "/topics/prescribing", status: 200 },
    { name: "roadmap", path: "/roadmap", status: 200 },
    { name: "guides", path: "/guides", status: 200 },
    { name: "guide", path: "/guides/what-is-interoperability", status: 200 },
    { name: "glossary", path: "/glossary", status: 200 },
    { name: "about", path: "/about", status: 200 },
    { name: "help", path: "/help", status: 200 },
    { name: "accessibility statement", path: "/accessibility", status: 200 },
    { name: "privacy", path: "/privacy", status: 200 },
    { name: "sign in", path: "/sign-in", status: 200 },
    { name: "not found", path: "/no-such-page", status: 404 },
    { name: "bad request", path: "/search?page=0", status: 400 },
  ];
}

/**
 * A browser context, with the requests that any page of it makes to
 * other hosts than the test server recorded in `context.foreignRequests`.
 * (The site's CSP stops such requests anyway and the machine has no
 * network; intercepting every request to block them would slow each page
 * threefold.)
 */
export async function newContext(browser, server, options = {}) {
  const context = await browser.newContext(options);
  const foreign = [];
  context.on("request", (request) => {
    if (!isOwn(request.url(), server.origin)) foreign.push(request.url());
  });
  context.foreignRequests = foreign;
  return context;
}

function isOwn(url, origin) {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol === "data:" || u.protocol === "blob:" || u.protocol === "about:") return true;
  return u.origin === origin;
}

/**
 * Records what goes wrong on a page: console errors, CSP violations,
 * uncaught exceptions, failed requests (network errors and HTTP errors on
 * anything but the page itself) and requests to other hosts.
 */
export function watch(page, origin, { expectedStatus = 200 } = {}) {
  let inFlight = 0;
  let lastActivity = Date.now();
  const problems = {
    consoleErrors: [],
    cspViolations: [],
    pageErrors: [],
    failedRequests: [],
    foreignRequests: [],
  };
  page.on("console", (msg) => {
    const text = msg.text();
    if (/content[ -]security[ -]policy/i.test(text)) problems.cspViolations.push(`${msg.type()}: ${text}`);
    if (msg.type() !== "error") return;
    // Chromium logs every 4xx response, the page itself included: a 404 or
    // 400 page answering with the status it must is not an error.
    const own = `the server responded with a status of ${expectedStatus} `;
    if (expectedStatus >= 400 && text.includes(own) && msg.location().url === page.url()) return;
    problems.consoleErrors.push(`${text} (${msg.location().url})`);
  });
  page.on("pageerror", (e) => problems.pageErrors.push(String(e.stack || e)));
  page.on("request", (request) => {
    inFlight++;
    lastActivity = Date.now();
    if (!isOwn(request.url(), origin)) problems.foreignRequests.push(request.url());
  });
  const done = () => {
    inFlight = Math.max(0, inFlight - 1);
    lastActivity = Date.now();
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  page.on("requestfailed", (request) => {
    const failure = request.failure()?.errorText || "failed";
    // A navigation that replaces a page still loading aborts its requests;
    // that is the test's doing, not the site's.
    if (failure === "net::ERR_ABORTED" && request.isNavigationRequest()) return;
    problems.failedRequests.push(`${request.method()} ${request.url()}: ${failure}`);
  });
  page.on("response", (response) => {
    const request = response.request();
    if (response.status() >= 400 && !(request.isNavigationRequest() && request.frame() === page.mainFrame())) {
      problems.failedRequests.push(`${request.method()} ${response.url()}: HTTP ${response.status()}`);
    }
  });
  // Resolves once no request has been in flight for `quietMs` (a shorter
  // "networkidle" than Playwright's fixed 500 ms).
  Object.defineProperty(problems, "settle", {
    enumerable: false,
    value: async (quietMs = 250, timeout = 10_000) => {
      const start = Date.now();
      while (inFlight > 0 || Date.now() - lastActivity < quietMs) {
        if (Date.now() - start > timeout) throw new Error(`requests still in flight after ${timeout} ms`);
        await page.waitForTimeout(25);
      }
    },
  });
  return problems;
}

/** Fails with everything `watch` saw, if it saw anything. */
export function assertClean(problems, where) {
  const lines = [];
  for (const [kind, list] of Object.entries(problems)) {
    for (const item of list) lines.push(`  ${kind}: ${item}`);
  }
  assert.ok(lines.length === 0, `${where}:\n${lines.join("\n")}`);
}

// ---------------------------------------------------------------- axe

export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Puts axe-core (from node_modules, never a CDN) into the page. Its source
 * is evaluated through the debugging protocol, which the page's CSP does
 * not govern, so the CSP stays in force (and the watcher still sees any
 * violation of it) whether or not the context bypasses it.
 */
export async function injectAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
}

/** axe-core's violations of the WCAG A and AA rules on the page as it is now. */
export async function axeViolations(page) {
  await injectAxe(page);
  const results = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    AXE_TAGS,
  );
  return results.violations;
}

/** Runs axe-core on the page as it is now and fails with a readable list of violations. */
export async function assertNoAxeViolations(page, where) {
  const violations = await axeViolations(page);
  assert.ok(violations.length === 0, `axe on ${where}:\n${formatViolations(violations)}`);
}

export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 10)
        .map((n) => {
          const summary = (n.failureSummary || "").replace(/\n/g, "\n        ");
          return `    - ${n.target.join(" ")}\n      ${n.html.slice(0, 300)}\n        ${summary}`;
        })
        .join("\n");
      const more = v.nodes.length > 10 ? `\n    ... and ${v.nodes.length - 10} more` : "";
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.tags.filter((t) => t.startsWith("wcag")).join(", ")})\n    ${v.helpUrl}\n${nodes}${more}`;
    })
    .join("\n");
}

// ---------------------------------------------------------- search page

/** The number at the start of #result-count ("12 results for ..."; "No results" is 0). */
export async function resultCount(page) {
  const text = (await page.locator("#result-count").textContent()).trim();
  if (/^No results/.test(text)) return 0;
  const m = text.match(/^(\d+) results?\b/);
  assert.ok(m, `#result-count reads "${text}"`);
  return Number(m[1]);
}

/** The titles of the results on the page, as shown. */
export async function resultTitles(page) {
  return (await page.locator(".app-results .app-result h3 a").allTextContents()).map((t) => t.trim());
}

/** Waits until the address bar's query satisfies `test(URLSearchParams)`. */
export async function waitForQuery(page, test, what, timeout = 10_000) {
  const start = Date.now();
  for (;;) {
    const params = new URL(page.url()).searchParams;
    if (test(params)) return params;
    if (Date.now() - start > timeout) assert.fail(`timed out waiting for the address to ${what}; it is ${page.url()}`);
    await page.waitForTimeout(50);
  }
}

// ---------------------------------------------------------------- pages as served

const validator = new HtmlValidate(htmlValidateConfig);

/** html-validate (the shared configuration) on a page's HTML. */
export async function assertValidHtml(html, where) {
  const report = await validator.validateString(html, where);
  assert.ok(report.valid, `html-validate on ${where}:\n${formatterFactory("text")(report.results)}`);
}

/**
 * Keeps the last response the page's main frame navigated to (after
 * redirects) in `.last`, so a page's status and HTML as served can be read
 * even when it answered a POST.
 */
export function trackDocuments(page) {
  const state = { last: null };
  page.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) state.last = response;
  });
  return state;
}

// ------------------------------------------------------------- keyboard

/** Waits for the focus to reach an element matching `selector`; fails, saying where it is, if it does not. */
export async function waitForFocus(page, selector, where, timeout = 5_000) {
  try {
    await page.waitForFunction((sel) => document.activeElement?.matches(sel), selector, { timeout });
  } catch {
    assert.fail(`${where}: the focus never moved to ${selector}; it is on ${await describeFocus(page)}`);
  }
}

/**
 * Types into a search box with suggestions and waits until the
 * suggestions for the whole text have arrived. The site asks for them
 * 150 ms after the last key, so leaving the page sooner would cut that
 * request off (a failed request to the watcher).
 */
export async function typeWithSuggestions(page, text) {
  const wanted = text.trim();
  const answered = page.waitForResponse((r) => {
    const url = new URL(r.url());
    return url.pathname === "/api/v1/suggest" && url.searchParams.get("q") === wanted;
  });
  await page.keyboard.type(text);
  await (await answered).finished();
}

/** A short description of the focused element, for messages. */
export function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "(nothing: the page itself)";
    const text = (el.textContent || el.value || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return `<${el.tagName.toLowerCase()}${el.id ? ` id="${el.id}"` : ""}${el.className ? ` class="${el.className}"` : ""}> ${text}`;
  });
}

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `selector`
 * (and, if given, its text matches `text`), at most `max` times; fails if
 * it never does. Returns the number of presses.
 */
export async function tabTo(page, selector, { shift = false, max = 150, text } = {}) {
  const key = shift ? "Shift+Tab" : "Tab";
  const seen = [];
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press(key);
    const hit = await page.evaluate(
      ([sel, source]) => {
        const el = document.activeElement;
        if (!el || !el.matches(sel)) return false;
        return source === null || new RegExp(source, "i").test(el.textContent || "");
      },
      [selector, text ? text.source : null],
    );
    if (hit) return i;
    if (seen.length < 12) seen.push(await describeFocus(page));
  }
  assert.fail(`${key} never reached ${selector}${text ? ` ${text}` : ""} in ${max} presses; first stops: ${seen.join(", ")}`);
}

/**
 * Fails unless the focused element matches `selector`, is :focus-visible,
 * and shows a focus indicator: a visible outline or a box shadow on it, or
 * (for the design system's checkboxes, whose input is transparent) on its
 * label's box.
 */
export async function assertFocusVisible(page, selector) {
  const state = await page.evaluate((sel) => {
    const el = document.activeElement;
    if (!el || !el.matches(sel)) return { ok: false, why: "focus is elsewhere" };
    if (!el.matches(":focus-visible")) return { ok: false, why: "not :focus-visible" };
    const shows = (style) =>
      (style.outlineStyle !== "none" &&
        parseFloat(style.outlineWidth) > 0 &&
        !/rgba\(\d+, \d+, \d+, 0\)|transparent/.test(style.outlineColor)) ||
      (style.boxShadow && style.boxShadow !== "none");
    // An element made transparent (the design system's checkbox inputs)
    // shows nothing itself; its label draws the box and the focus ring.
    const styles = getComputedStyle(el).opacity === "0" ? [] : [getComputedStyle(el)];
    if (el.matches("input[type=checkbox], input[type=radio]") && el.labels?.[0]) {
      styles.push(getComputedStyle(el.labels[0], "::before"), getComputedStyle(el.labels[0], "::after"));
    }
    const indicator = styles.some(shows);
    const s = styles.find((x) => x.boxShadow !== "none") || styles[0] || getComputedStyle(el);
    return {
      ok: indicator,
      why: indicator ? "" : `no outline or box shadow (outline: ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; box-shadow: ${s.boxShadow})`,
    };
  }, selector);
  assert.ok(state.ok, `focus on ${selector} is visible: ${state.why}; focused: ${await describeFocus(page)}`);
}

/**
 * The set-up every journey shares: a server, a browser, one context (with
 * `options`, such as `{ javaScriptEnabled: false }`) and one watched page.
 */
export async function openJourney(options = {}) {
  const server = await startServer();
  const browser = await launchBrowser();
  const context = await newContext(browser, server, options);
  const page = await context.newPage();
  const problems = watch(page, server.origin);
  return { server, browser, context, page, problems };
}

/** Closes what `openJourney` opened, whatever got opened. */
export async function closeJourney({ context, browser, server } = {}) {
  await context?.close();
  await browser?.close();
  await server?.stop();
}
