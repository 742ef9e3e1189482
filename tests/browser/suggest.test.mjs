// Suggestions under the search box (JavaScript on): typing shows a listbox
// of entries, ArrowDown highlights one and Enter opens it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";
import { launchBrowser, newContext, watch, assertClean, assertNoAxeViolations } from "./browser.mjs";

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

/** Types into the search box and waits for the listbox's options. */
async function openSuggestions(page, words) {
  const input = page.locator("#search-field");
  await input.click();
  await page.keyboard.type(words);
  const listbox = page.locator("[role=listbox]");
  await listbox.locator("[role=option]").first().waitFor({ state: "visible", timeout: 10_000 });
  return { input, listbox };
}

test("typing shows suggestions; ArrowDown and Enter open one", async () => {
  const context = await newContext(browser, server);
  try {
    const page = await context.newPage();
    const problems = watch(page, server.origin);
    await page.goto(server.url + "/");
    const { input, listbox } = await openSuggestions(page, "summary care");

    const options = listbox.locator("[role=option]");
    const count = await options.count();
    assert.ok(count >= 1, "at least one suggestion");
    const texts = await options.allTextContents();
    assert.ok(
      texts.some((t) => /summary care/i.test(t)),
      `a suggestion about the Summary Care Record among: ${texts.join(" | ")}`,
    );
    assert.equal(await input.getAttribute("role"), "combobox");
    assert.equal(await input.getAttribute("aria-expanded"), "true");
    assert.equal(await input.getAttribute("aria-controls"), await listbox.getAttribute("id"));

    await page.keyboard.press("ArrowDown");
    const first = options.first();
    assert.equal(await first.getAttribute("aria-selected"), "true", "ArrowDown highlights the first suggestion");
    assert.equal(await input.getAttribute("aria-activedescendant"), await first.getAttribute("id"));
    assert.equal(await page.evaluate(() => document.activeElement.id), "search-field", "focus stays in the box");
    const title = await first.evaluate((li) => li.firstChild.textContent.trim());
    const slug = await first.getAttribute("data-slug");

    await Promise.all([page.waitForURL(`**/standards/${slug}`), page.keyboard.press("Enter")]);
    assert.equal((await page.locator("h1").textContent()).trim(), title, "the entry opened is the one suggested");
    assertClean(problems, "suggestions");
  } finally {
    await context.close();
  }
});

test("Escape closes the suggestions and Enter then searches for the words", async () => {
  const context = await newContext(browser, server);
  try {
    const page = await context.newPage();
    await page.goto(server.url + "/");
    const { input, listbox } = await openSuggestions(page, "summary care");
    await page.keyboard.press("Escape");
    assert.equal(await listbox.isVisible(), false);
    assert.equal(await input.getAttribute("aria-expanded"), "false");
    await Promise.all([page.waitForURL((u) => u.pathname === "/search"), page.keyboard.press("Enter")]);
    assert.equal(new URL(page.url()).searchParams.get("q"), "summary care");
  } finally {
    await context.close();
  }
});

test("axe: the suggestions open, one highlighted", async () => {
  const context = await newContext(browser, server, { bypassCSP: true });
  try {
    const page = await context.newPage();
    await page.goto(server.url + "/");
    await openSuggestions(page, "summary care");
    await page.keyboard.press("ArrowDown");
    await assertNoAxeViolations(page, "/ with the suggestions open");
    assert.ok(await page.locator("[role=listbox]").isVisible(), "still open after axe ran");
  } finally {
    await context.close();
  }
});
