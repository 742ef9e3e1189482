// The search journey with a mouse and JavaScript on: search from the home
// page (with a spelling mistake), filter (results update in place), remove
// the filter, page forward and back, open an entry.

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

/** Marks the document, so a later check can tell whether it was replaced. */
const mark = () =>
  page.evaluate(() => {
    window.__samePage = true;
    document.getElementById("result-count").__same = true;
  });
const samePage = () => page.evaluate(() => window.__samePage === true);
/** The count's status region is the element that was there before (so screen readers announce its new text). */
const sameStatus = () => page.evaluate(() => document.getElementById("result-count").__same === true);

test("search, filter, remove the filter, page, and open an entry, by mouse", async () => {
  // Search from the home page, misspelt.
  await page.goto(server.url + "/");
  await page.locator("#search-field").click();
  // The suggestions for the whole word arrive before the form is sent, so
  // leaving the page does not cut their request off.
  await typeWithSuggestions(page, "alergy");
  await Promise.all([
    page.waitForURL((u) => u.pathname === "/search"),
    page.locator("form[role=search] button[type=submit]").click(),
  ]);
  assert.equal(new URL(page.url()).searchParams.get("q"), "alergy");
  const titles = await resultTitles(page);
  assert.ok(
    titles.some((t) => /allergy/i.test(t)),
    `a result about allergies among: ${titles.join(" | ")}`,
  );
  assert.equal(await page.locator("#result-count").getAttribute("role"), "status");
  const all = await resultCount(page);
  assert.ok(all > 1, `several results for "alergy" (${all})`);

  // Tick Hospital, then Mandated: the results update in place.
  await mark();
  await page.locator("#filter-care_setting-hospital").click();
  await waitForQuery(page, (p) => p.getAll("care_setting").includes("hospital"), "include care_setting=hospital");
  assert.ok(await samePage(), "ticking a filter updated the page in place, without loading a new one");
  assert.ok(await page.locator("#filter-care_setting-hospital").isChecked(), "Hospital stays ticked");
  const hospital = await resultCount(page);
  assert.ok(hospital <= all, `Hospital narrows the results (${all} → ${hospital})`);

  await page.locator("#filter-mandated-true").click();
  const params = await waitForQuery(page, (p) => p.get("mandated") === "true", "include mandated=true");
  assert.equal(params.get("q"), "alergy", "the search words stay in the address");
  assert.ok(params.getAll("care_setting").includes("hospital"), "so does the first filter");
  assert.ok(await samePage(), "still the same page");
  assert.ok(await sameStatus(), "the count was updated in its role=status region, not replaced");
  const mandated = await resultCount(page);
  assert.ok(mandated < all, `the count drops with the filters (${all} → ${mandated})`);
  assert.ok((await resultTitles(page)).length > 0, "some results remain");
  assert.match(await page.title(), /alergy/, "the page title follows the results");

  // Reload: the address alone gives the same results (it is shareable).
  await page.reload();
  assert.equal(await resultCount(page), mandated, "the updated address shows the same results when loaded");
  assert.ok(await page.locator("#filter-mandated-true").isChecked());

  // Remove Mandated by its link in the selected filters, then untick Hospital.
  const removeMandated = page.locator(".app-chosen a.app-chosen__remove", { hasText: /Mandated/i });
  assert.match(await removeMandated.textContent(), /Remove filter/);
  await Promise.all([page.waitForURL((u) => !u.searchParams.has("mandated")), removeMandated.click()]);
  assert.equal(await resultCount(page), hospital, "removing Mandated gives the earlier count back");
  assert.equal(await page.locator("#filter-mandated-true").isChecked(), false);

  await mark();
  await page.locator("#filter-care_setting-hospital").click();
  await waitForQuery(page, (p) => !p.has("care_setting"), "lose care_setting");
  assert.ok(await samePage(), "unticking updates in place too");
  assert.equal(await resultCount(page), all, "and the count is back to all the results");
  assert.equal(await page.locator(".app-chosen").count(), 0, "no filters are shown as selected");

  // Back goes to the previous state of the results (the address bar history).
  await page.goBack();
  await waitForQuery(page, (p) => p.getAll("care_setting").includes("hospital"), "be back at care_setting=hospital");
  await page.waitForFunction(
    (n) => document.getElementById("result-count").textContent.startsWith(`${n} result`),
    hospital,
  );

  assertClean(problems, "the search journey");
});

test("page forward and back by mouse, filters kept", async () => {
  await page.goto(`${server.url}/search?type=standard&care_setting=hospital`);
  const total = await resultCount(page);
  const first = await resultTitles(page);
  assert.match(await page.locator("main").textContent(), /Page 1 of ([2-9]|[1-9]\d+)\b/, "more than one page");

  await Promise.all([page.waitForURL(/page=2/), page.locator("a[rel=next]").click()]);
  let params = new URL(page.url()).searchParams;
  assert.equal(params.get("type"), "standard", "the type filter is kept");
  assert.equal(params.get("care_setting"), "hospital", "the care setting filter is kept");
  assert.match(await page.locator("main").textContent(), /Page 2 of/);
  assert.equal(await resultCount(page), total);
  const second = await resultTitles(page);
  assert.ok(second.length > 0 && !second.some((t) => first.includes(t)), "page 2 shows other results");

  await Promise.all([page.waitForURL((u) => u.searchParams.get("page") !== "2"), page.locator("a[rel=prev]").click()]);
  params = new URL(page.url()).searchParams;
  assert.ok([null, "1"].includes(params.get("page")), "back on page 1");
  assert.equal(params.get("type"), "standard");
  assert.equal(params.get("care_setting"), "hospital");
  assert.match(await page.locator("main").textContent(), /Page 1 of/);
  assert.deepEqual(await resultTitles(page), first, "page 1 shows the same results as before");
  assertClean(problems, "paging");
});

test("open an entry by clicking its title", async () => {
  await page.goto(`${server.url}/search?q=allergy`);
  const link = page.locator(".app-results .app-result h3 a").nth(1);
  const title = (await link.textContent()).trim();
  await Promise.all([page.waitForURL(/\/standards\//), link.click()]);
  assert.equal((await page.locator("h1").textContent()).trim(), title);
  assertClean(problems, "opening an entry");
});
