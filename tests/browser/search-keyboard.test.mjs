// The search journey by keyboard alone (Tab, Shift+Tab, Space, Enter and
// typing; no clicks), JavaScript on, with the focus visible where it
// lands.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  openJourney,
  closeJourney,
  assertClean,
  resultCount,
  resultTitles,
  typeWithSuggestions,
  waitForQuery,
  tabTo,
  assertFocusVisible,
} from "./browser.mjs";

let server;
let browser;
let context;
let page;
let problems;

before(async () => {
  ({ server, browser, context, page, problems } = await openJourney());
});

after(() => closeJourney({ context, browser, server }));

test("search, filter, remove the filter and open an entry by keyboard", async () => {
  await page.goto(server.url + "/");

  // The first Tab reaches the skip link, visibly.
  await page.keyboard.press("Tab");
  await assertFocusVisible(page, "a.nhsuk-skip-link");

  // Reach the search box, type, Enter.
  await tabTo(page, "#search-field");
  await assertFocusVisible(page, "#search-field");
  await typeWithSuggestions(page, "alergy");
  await Promise.all([page.waitForURL((u) => u.pathname === "/search"), page.keyboard.press("Enter")]);
  assert.equal(new URL(page.url()).searchParams.get("q"), "alergy");
  const titles = await resultTitles(page);
  assert.ok(titles.some((t) => /allergy/i.test(t)), `a result about allergies among: ${titles.join(" | ")}`);
  const all = await resultCount(page);

  // Tab to the Hospital filter, Space: the results update and the focus
  // stays on the checkbox.
  await tabTo(page, "#filter-care_setting-hospital");
  await assertFocusVisible(page, "#filter-care_setting-hospital");
  await page.keyboard.press("Space");
  await waitForQuery(page, (p) => p.getAll("care_setting").includes("hospital"), "include care_setting=hospital");
  assert.ok(await page.locator("#filter-care_setting-hospital").isChecked(), "Space ticked Hospital");
  await assertFocusVisible(page, "#filter-care_setting-hospital");
  const hospital = await resultCount(page);

  // The Mandated group comes before the care settings: Shift+Tab back to it.
  await tabTo(page, "#filter-mandated-true", { shift: true });
  await assertFocusVisible(page, "#filter-mandated-true");
  await page.keyboard.press("Space");
  await waitForQuery(page, (p) => p.get("mandated") === "true", "include mandated=true");
  await assertFocusVisible(page, "#filter-mandated-true");
  const mandated = await resultCount(page);
  assert.ok(mandated < all, `the count drops with the filters (${all} → ${mandated})`);

  // Tab on to the selected filters and remove Mandated with Enter.
  await tabTo(page, "a.app-chosen__remove", { text: /Mandated/ });
  await assertFocusVisible(page, "a.app-chosen__remove");
  await Promise.all([page.waitForURL((u) => !u.searchParams.has("mandated")), page.keyboard.press("Enter")]);
  assert.equal(await resultCount(page), hospital, "removing Mandated gives the earlier count back");

  // Untick Hospital with Space.
  await tabTo(page, "#filter-care_setting-hospital");
  await page.keyboard.press("Space");
  await waitForQuery(page, (p) => !p.has("care_setting"), "lose care_setting");
  assert.equal(await resultCount(page), all, "unticking Hospital gives all the results back");

  // Follow a result with Enter.
  await tabTo(page, ".app-results .app-result h3 a");
  await assertFocusVisible(page, ".app-results .app-result h3 a");
  const title = (await page.evaluate(() => document.activeElement.textContent)).trim();
  await Promise.all([page.waitForURL(/\/standards\//), page.keyboard.press("Enter")]);
  assert.equal((await page.locator("h1").textContent()).trim(), title, "the entry opened is the one followed");
  assertClean(problems, "the keyboard journey");
});

test("page forward and back by keyboard, filters kept", async () => {
  await page.goto(`${server.url}/search?type=standard&care_setting=hospital`);
  const first = await resultTitles(page);

  await tabTo(page, "a[rel=next]", { max: 250 });
  await assertFocusVisible(page, "a[rel=next]");
  await Promise.all([page.waitForURL(/page=2/), page.keyboard.press("Enter")]);
  let params = new URL(page.url()).searchParams;
  assert.equal(params.get("type"), "standard");
  assert.equal(params.get("care_setting"), "hospital");
  assert.match(await page.locator("main").textContent(), /Page 2 of/);

  await tabTo(page, "a[rel=prev]", { max: 250 });
  await assertFocusVisible(page, "a[rel=prev]");
  await Promise.all([page.waitForURL((u) => u.searchParams.get("page") !== "2"), page.keyboard.press("Enter")]);
  params = new URL(page.url()).searchParams;
  assert.equal(params.get("type"), "standard");
  assert.equal(params.get("care_setting"), "hospital");
  assert.match(await page.locator("main").textContent(), /Page 1 of/);
  assert.deepEqual(await resultTitles(page), first);
  assertClean(problems, "paging by keyboard");
});

test("the search box's suggestions can be chosen by keyboard", async () => {
  await page.goto(server.url + "/");
  await tabTo(page, "#search-field");
  await page.keyboard.type("summary care");
  const options = page.locator("[role=listbox] [role=option]");
  await options.first().waitFor({ state: "visible" });
  await page.keyboard.press("ArrowDown");
  const chosen = page.locator("[role=option][aria-selected=true]");
  const title = await chosen.evaluate((li) => li.firstChild.textContent.trim());
  await Promise.all([page.waitForURL(/\/standards\//), page.keyboard.press("Enter")]);
  assert.equal((await page.locator("h1").textContent()).trim(), title);
  assertClean(problems, "suggestions by keyboard");
});

test("the focus check can fail", async () => {
  // With every focus style taken away, the check must notice.
  await page.goto(`${server.url}/search?q=allergy`);
  await tabTo(page, "#filter-care_setting-hospital");
  await assertFocusVisible(page, "#filter-care_setting-hospital");
  await page.keyboard.press("Shift+Tab");
  // Through the CSSOM, which the page's CSP allows (a <style> element it
  // would block).
  await page.evaluate(() => {
    const sheet = [...document.styleSheets].find((x) => x.href && x.href.includes("/site"));
    sheet.insertRule("*, *::before, *::after { outline: none !important; box-shadow: none !important; }");
  });
  await page.keyboard.press("Tab");
  await assert.rejects(assertFocusVisible(page, "#filter-care_setting-hospital"), /no outline or box shadow/);
  await assert.rejects(assertFocusVisible(page, "#search-field"), /focus is elsewhere/);
});
