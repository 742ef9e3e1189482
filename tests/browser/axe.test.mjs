// axe-core finds no WCAG 2.2 AA violations (tags wcag2a, wcag2aa,
// wcag21a, wcag21aa, wcag22aa) on any page template, nor on the search
// page with its filter panel closed, opened again, and after a filter was
// ticked with JavaScript on.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";
import {
  launchBrowser,
  newContext,
  templatePages,
  assertNoAxeViolations,
  formatViolations,
  AXE_TAGS,
  resultCount,
  waitForQuery,
} from "./browser.mjs";

let server;
let browser;
let context;
let pages;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // axe is injected as a script, which the site's CSP forbids (as it
  // should); this context alone ignores the CSP. pages.test.mjs loads every
  // page with the CSP enforced.
  context = await newContext(browser, server, { bypassCSP: true });
  pages = await templatePages(server);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});

test("axe: every page template", async (t) => {
  for (const { name, path, status } of pages) {
    await t.test(`${name}: ${path}`, async () => {
      const page = await context.newPage();
      try {
        const response = await page.goto(server.url + path);
        assert.equal(response.status(), status);
        await assertNoAxeViolations(page, path);
      } finally {
        await page.close();
      }
    });
  }
});

test("axe: the search page's filter panel closed, opened, and after ticking a filter", async () => {
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/search?q=allergy`);
    const panel = page.locator("details#filter-panel");
    const summary = panel.locator("summary");
    assert.equal(await panel.evaluate((d) => d.open), true, "the filter panel starts open");

    await summary.click();
    assert.equal(await panel.evaluate((d) => d.open), false, "clicking its summary closes the filter panel");
    await assertNoAxeViolations(page, "/search?q=allergy with the filter panel closed");

    await summary.click();
    assert.equal(await panel.evaluate((d) => d.open), true, "clicking again opens it");
    await assertNoAxeViolations(page, "/search?q=allergy with the filter panel opened again");

    const before = await resultCount(page);
    await page.evaluate(() => {
      window.__samePage = true;
    });
    await page.locator("#filter-care_setting-hospital").check();
    await waitForQuery(page, (p) => p.getAll("care_setting").includes("hospital"), "include care_setting=hospital");
    await page.locator("#filter-mandated-true").check();
    await waitForQuery(page, (p) => p.get("mandated") === "true", "include mandated=true");
    assert.equal(await page.evaluate(() => window.__samePage), true, "the results were updated in place");
    assert.ok((await resultCount(page)) < before, "ticking filters changed the results");
    await assertNoAxeViolations(page, "/search?q=allergy after ticking filters with JavaScript on");
  } finally {
    await page.close();
  }
});

test("axe: the check can fail", async () => {
  // A page with known violations, so a broken axe set-up cannot pass
  // silently.
  const page = await context.newPage();
  try {
    await page.goto(`${server.url}/about`);
    await page.evaluate(() => {
      const img = document.createElement("img");
      img.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
      const input = document.createElement("input");
      input.type = "text";
      document.querySelector("main").append(img, input);
    });
    const error = await assertNoAxeViolations(page, "a broken page").then(
      () => null,
      (e) => e,
    );
    assert.ok(error, "axe reports the violations");
    assert.match(error.message, /image-alt/);
    assert.match(error.message, /label/);
    assert.deepEqual(AXE_TAGS, ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]);
    assert.equal(typeof formatViolations, "function");
  } finally {
    await page.close();
  }
});
