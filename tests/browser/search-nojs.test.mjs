// The search journey with JavaScript off: the filter panel's "Apply
// filters" button submits the ticked filters; removing a filter, paging
// and opening an entry are plain links.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openJourney, closeJourney, assertClean, resultCount, resultTitles } from "./browser.mjs";

let server;
let browser;
let context;
let page;
let problems;

before(async () => {
  ({ server, browser, context, page, problems } = await openJourney({ javaScriptEnabled: false }));
});

after(() => closeJourney({ context, browser, server }));

const apply = () => page.locator("#filter-panel button.app-apply");

test("search, filter with Apply filters, remove the filter, open an entry, without JavaScript", async () => {
  await page.goto(server.url + "/");
  assert.equal(await page.locator("body.js-enabled").count(), 0, "JavaScript is off");

  await page.locator("#search-field").click();
  await page.keyboard.type("alergy");
  await Promise.all([
    page.waitForURL((u) => u.pathname === "/search"),
    page.locator("form[role=search] button[type=submit]").click(),
  ]);
  assert.equal(new URL(page.url()).searchParams.get("q"), "alergy");
  const titles = await resultTitles(page);
  assert.ok(titles.some((t) => /allergy/i.test(t)), `a result about allergies among: ${titles.join(" | ")}`);
  const all = await resultCount(page);
  assert.equal(await page.locator("[role=listbox]").count(), 0, "no suggestions without JavaScript");

  // Ticking changes nothing until Apply filters is pressed.
  assert.ok(await apply().isVisible(), "the Apply filters button shows");
  await page.locator("#filter-care_setting-hospital").click();
  await page.locator("#filter-mandated-true").click();
  assert.equal(new URL(page.url()).searchParams.has("mandated"), false, "ticking alone does not search");
  await Promise.all([page.waitForURL((u) => u.searchParams.get("mandated") === "true"), apply().click()]);
  const params = new URL(page.url()).searchParams;
  assert.equal(params.get("q"), "alergy", "the words are kept");
  assert.deepEqual(params.getAll("care_setting"), ["hospital"]);
  const mandated = await resultCount(page);
  assert.ok(mandated < all, `the count drops with the filters (${all} → ${mandated})`);
  assert.ok(await page.locator("#filter-mandated-true").isChecked());
  assert.ok(await page.locator("#filter-care_setting-hospital").isChecked());

  // Remove Mandated by its link: Hospital alone.
  const removeMandated = page.locator(".app-chosen a.app-chosen__remove", { hasText: /Mandated/i });
  assert.match(await removeMandated.textContent(), /Remove filter/);
  await Promise.all([page.waitForURL((u) => !u.searchParams.has("mandated")), removeMandated.click()]);
  const hospital = await resultCount(page);
  assert.ok(hospital >= mandated && hospital <= all, `Hospital alone: ${hospital}`);
  assert.deepEqual(new URL(page.url()).searchParams.getAll("care_setting"), ["hospital"]);

  // Untick Hospital and apply: every result again.
  await page.locator("#filter-care_setting-hospital").click();
  await Promise.all([page.waitForURL((u) => !u.searchParams.has("care_setting")), apply().click()]);
  assert.equal(await resultCount(page), all, "the count returns to the earlier number");
  assert.equal(new URL(page.url()).searchParams.get("q"), "alergy");

  // Open an entry.
  const link = page.locator(".app-results .app-result h3 a").first();
  const title = (await link.textContent()).trim();
  await Promise.all([page.waitForURL(/\/standards\//), link.click()]);
  assert.equal((await page.locator("h1").textContent()).trim(), title);
  assertClean(problems, "the journey without JavaScript");
});

test("the sort applies with its own button without JavaScript", async () => {
  await page.goto(`${server.url}/search?type=standard`);
  const sortButton = page.locator(".app-sort button.app-apply");
  assert.ok(await sortButton.isVisible(), "the Sort button shows");
  const before = await resultTitles(page);
  const values = await page.locator("#sort option").evaluateAll((os) => os.map((o) => o.value));
  const other = values.find((v) => v !== "relevance" && v !== "");
  assert.ok(other, `a sort other than relevance among ${values.join(", ")}`);
  await page.locator("#sort").selectOption(other);
  await Promise.all([page.waitForURL((u) => u.searchParams.get("sort") === other), sortButton.click()]);
  assert.equal(new URL(page.url()).searchParams.get("type"), "standard", "the filter is kept");
  assert.equal(await page.locator("#sort").inputValue(), other);
  assert.ok((await resultTitles(page)).length === before.length);
  assertClean(problems, "sorting without JavaScript");
});

test("page forward and back without JavaScript, filters kept", async () => {
  await page.goto(`${server.url}/search?type=standard&care_setting=hospital`);
  const first = await resultTitles(page);
  await Promise.all([page.waitForURL(/page=2/), page.locator("a[rel=next]").click()]);
  let params = new URL(page.url()).searchParams;
  assert.equal(params.get("type"), "standard");
  assert.equal(params.get("care_setting"), "hospital");
  assert.match(await page.locator("main").textContent(), /Page 2 of/);
  const second = await resultTitles(page);
  assert.ok(second.length > 0 && !second.some((t) => first.includes(t)), "page 2 shows other results");

  await Promise.all([page.waitForURL((u) => u.searchParams.get("page") !== "2"), page.locator("a[rel=prev]").click()]);
  params = new URL(page.url()).searchParams;
  assert.equal(params.get("type"), "standard");
  assert.equal(params.get("care_setting"), "hospital");
  assert.match(await page.locator("main").textContent(), /Page 1 of/);
  assert.deepEqual(await resultTitles(page), first);
  assertClean(problems, "paging without JavaScript");
});
