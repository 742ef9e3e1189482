// Every page template loads in Chromium with its status, an <h1>, its
// script running, and nothing going wrong: no console errors, no uncaught
// exceptions, no Content-Security-Policy violations, no failed requests
// and no request to any host other than the test server.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";
import { launchBrowser, newContext, templatePages, watch, assertClean } from "./browser.mjs";

let server;
let browser;
let context;
let pages;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // No bypassCSP here: the page's own policy must allow everything it loads.
  context = await newContext(browser, server);
  pages = await templatePages(server);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});

test("every page template loads cleanly", async (t) => {
  for (const { name, path, status } of pages) {
    await t.test(`${name}: ${path}`, async () => {
      const page = await context.newPage();
      try {
        const problems = watch(page, server.origin, { expectedStatus: status });
        const response = await page.goto(server.url + path, { waitUntil: "load" });
        assert.equal(response.status(), status, `status of ${path}`);
        assert.match(response.headers()["content-type"] || "", /^text\/html/);
        await problems.settle();
        const h1s = await page.locator("h1").allTextContents();
        assert.ok(h1s.length >= 1, `${path} has an <h1>`);
        assert.ok(h1s[0].trim().length > 0, `${path}'s <h1> has text`);
        // The module script ran (it is what marks the body), so the CSP let it load.
        assert.ok(
          await page.evaluate(() => document.body.classList.contains("js-enabled")),
          `site.js ran on ${path}`,
        );
        assertClean(problems, path);
        assert.deepEqual(context.foreignRequests, [], "requests to other hosts");
      } finally {
        await page.close();
      }
    });
  }
});

test("the watcher catches what it should", async () => {
  // Each kind of problem the test above looks for, provoked on purpose, so
  // a watcher that saw nothing would fail here rather than pass silently.
  const page = await context.newPage();
  try {
    const problems = watch(page, server.origin);
    await page.goto(`${server.url}/about`);
    await page.evaluate(() => {
      console.error("deliberate");
      setTimeout(() => {
        throw new Error("deliberate page error");
      });
      const img = document.createElement("img");
      img.src = "/no-such-image.png";
      img.alt = "";
      document.body.append(img);
      // Blocked by the CSP (no inline scripts): a violation in the console.
      const s = document.createElement("script");
      s.textContent = "1";
      document.body.append(s);
    });
    await page.waitForTimeout(500);
    // The CSP stops requests to other hosts before they are made, so this
    // one comes from a context that ignores the CSP.
    const open = await newContext(browser, server, { bypassCSP: true });
    const other = await open.newPage();
    const otherProblems = watch(other, server.origin);
    await other.goto(`${server.url}/about`);
    await other.evaluate(() => fetch("http://example.invalid/x").catch(() => {}));
    await other.waitForTimeout(300);
    await open.close();
    assert.ok(otherProblems.foreignRequests.some((e) => e.includes("example.invalid")), "a foreign request is caught");
    assert.ok(open.foreignRequests.some((e) => e.includes("example.invalid")), "the context records it too");
    assert.ok(problems.consoleErrors.some((e) => e.includes("deliberate")), "console.error is caught");
    assert.ok(problems.pageErrors.some((e) => e.includes("deliberate page error")), "page errors are caught");
    assert.ok(problems.failedRequests.some((e) => e.includes("/no-such-image.png")), "a 404 sub-request is caught");
    assert.ok(problems.cspViolations.length > 0, "a CSP violation is caught");
  } finally {
    await page.close();
  }
});
