// The site on a phone: at 320 and 390 pixels wide nothing scrolls sideways,
// the search box is wide enough to read what is typed, and on the search
// page the results come first with the filters folded behind their
// control (open again on a wide screen, and with JavaScript off).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";
import { launchBrowser, newContext } from "./browser.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PATHS = ["/", "/search?q=allergy", "/standards/snomed-ct", "/roadmap", "/organisations/nhs-england", "/care-settings/pharmacy"];

for (const width of [320, 390]) {
  test(`at ${width} px nothing scrolls sideways and the search box is usable`, async () => {
    const context = await newContext(browser, server, { viewport: { width, height: 800 } });
    try {
      const page = await context.newPage();
      for (const path of PATHS) {
        await page.goto(server.url + path, { waitUntil: "load" });
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        assert.equal(overflow, 0, `${path} at ${width} px scrolls sideways by ${overflow} px`);
      }
      for (const path of ["/", "/search?q=allergy"]) {
        await page.goto(server.url + path, { waitUntil: "load" });
        const box = await page.locator("#search-field").boundingBox();
        assert.ok(box.width >= width / 2, `${path}: the search box is ${box.width} px wide at ${width} px`);
        const button = await page.getByRole("button", { name: "Search", exact: true }).boundingBox();
        assert.ok(button.x + button.width <= width, `${path}: the Search button ends inside the screen`);
      }
    } finally {
      await context.close();
    }
  });
}

test("on a phone the results come before the folded filters; on a wide screen the filters are open", async () => {
  for (const [width, open] of [[390, false], [1280, true]]) {
    const context = await newContext(browser, server, { viewport: { width, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(server.url + "/search?q=allergy", { waitUntil: "load" });
      assert.equal(await page.locator("#filter-panel").evaluate((d) => d.open), open, `filters open at ${width} px`);
      if (!open) {
        const first = await page.locator(".app-result").first().boundingBox();
        assert.ok(first.y < 800, `the first result starts on the first screen (at ${first.y} px)`);
        await page.getByText("Filters", { exact: true }).click();
        assert.equal(await page.locator("#filter-panel").evaluate((d) => d.open), true, "the control opens them");
      }
    } finally {
      await context.close();
    }
  }
  const nojs = await newContext(browser, server, { viewport: { width: 390, height: 800 }, javaScriptEnabled: false });
  try {
    const page = await nojs.newPage();
    await page.goto(server.url + "/search?q=allergy", { waitUntil: "load" });
    assert.equal(await page.locator("#filter-panel").evaluate((d) => d.open), true, "without JavaScript the filters stay open");
  } finally {
    await nojs.close();
  }
});

test("a result says whether it is mandated, whose it is and by when", async () => {
  const context = await newContext(browser, server, { viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(server.url + "/search?q=snomed+ct", { waitUntil: "load" });
    const card = page.locator(".app-result", { has: page.locator('a[href="/standards/snomed-ct"]') });
    const facts = await card.locator("p").first().textContent();
    assert.match(facts, /Mandated/);
    assert.match(facts, /from NHS England/);
    assert.match(facts, /Comply by \d{1,2} [A-Z][a-z]+ \d{4}/);
    const snippet = await card.locator("p").nth(1).textContent();
    assert.doesNotMatch(snippet, /\*\*|##|\]\(/, "the snippet is plain text, not Markdown");
  } finally {
    await context.close();
  }
});
