// The publishing workflow by mouse and keyboard, as the people doing it
// would: a publisher drafts a new entry and submits it, an editor requests
// changes, the publisher reads the comment, fixes the entry and resubmits,
// the editor publishes, a signed-out visitor finds it, and its history
// shows every step with the differences. The form, revision and history
// pages are checked with axe and html-validate on the way, and every page
// must load without console errors, CSP violations or failed requests.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openJourney, closeJourney, assertClean, assertNoAxeViolations, assertValidHtml, resultTitles, typeWithSuggestions } from "./browser.mjs";

const PASSWORD = "copper lantern meadow";
const PUBLISHER = "publisher@example.org";
const EDITOR = "editor@example.org";
const ORGANISATION = "nhs-england";
const SLUG = "wound-photograph-exchange";
const TITLE = "Wound photograph exchange";
const COMMENT = "Wound photographs are taken in social care too: add that care setting.";

let server;
let browser;
let context;
let page;
let problems;

before(async () => {
  ({ server, browser, context, page, problems } = await openJourney());
  await server.cli(["user", "add", PUBLISHER, "--role", "publisher", "--org", ORGANISATION, "--password-stdin"], `${PASSWORD}\n`);
  await server.cli(["user", "add", EDITOR, "--role", "editor", "--password-stdin"], `${PASSWORD}\n`);
});

after(() => closeJourney({ context, browser, server }));

/** html-validate on the page's HTML as served (fetched again with the same cookies). */
async function validHtml(where) {
  const response = await context.request.get(page.url());
  assert.equal(response.status(), 200, `GET ${page.url()}`);
  await assertValidHtml(await response.text(), where);
}

async function signIn(email) {
  await page.goto(`${server.url}/`);
  await Promise.all([page.waitForURL((u) => u.pathname === "/sign-in"), page.getByRole("link", { name: "Sign in" }).click()]);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname === "/dashboard"), page.getByRole("button", { name: "Sign in" }).click()]);
  assert.match(await page.locator("main").textContent(), new RegExp(`Signed in as ${email.replace(".", "\\.")}`));
}

async function signOut() {
  await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.getByRole("button", { name: "Sign out" }).click()]);
  assert.equal(await page.getByRole("link", { name: "Sign in" }).count(), 1, "signed out");
}

/** Waits for the revision page to show this state. */
async function revisionState(label) {
  await page.locator("#revision-state", { hasText: label }).waitFor();
  assert.equal((await page.locator("#revision-state").textContent()).trim(), label);
}

/** The steps on the history page, oldest first: each one's text, spaces collapsed. */
async function historySteps() {
  const texts = await page.locator("#steps > li").allTextContents();
  return texts.map((t) => t.replace(/\s+/g, " ").trim()).reverse();
}

test("a publisher drafts and submits, an editor requests changes, the publisher resubmits, the editor publishes", async (t) => {
  let revision;

  await t.test("the publisher drafts a new entry and submits it", async () => {
    await signIn(PUBLISHER);
    await Promise.all([page.waitForURL((u) => u.pathname === "/new"), page.getByRole("link", { name: "Add an entry" }).click()]);
    await assertNoAxeViolations(page, "the new entry form");
    await validHtml("the new entry form");
    await page.getByLabel("Slug").fill(SLUG);
    await page.getByLabel(/^Title/).click();
    await page.keyboard.type(TITLE);
    await page.getByLabel(/^Summary/).fill("How services send wound photographs with a referral.");
    await page.getByLabel(/^Description/).fill("## Purpose\n\nPhotographs travel with the referral.");
    await page.getByLabel(/^Category/).selectOption({ label: "Record standards" });
    await page.locator("#field-care_settings").getByLabel("Hospital", { exact: true }).check();
    await page.locator("#field-topics").getByLabel("Referrals", { exact: true }).check();
    assert.equal(await page.getByLabel(/^Owner/).inputValue(), ORGANISATION, "the publisher's organisation owns it");
    await Promise.all([
      page.waitForURL((u) => u.pathname.startsWith("/revisions/")),
      page.getByRole("button", { name: "Save as draft" }).click(),
    ]);
    revision = new URL(page.url()).pathname;
    await revisionState("Draft");
    assert.equal(await page.locator("h2", { hasText: "A new entry" }).count(), 1);
    await assertNoAxeViolations(page, "a draft revision");
    await validHtml("a draft revision");

    await page.getByRole("button", { name: "Submit for review" }).click();
    await revisionState("Submitted for review");
    assert.equal(new URL(page.url()).pathname, revision);
    await signOut();
    const response = await fetch(`${server.url}/standards/${SLUG}`);
    assert.equal(response.status, 404, "the public cannot see a submitted entry");
    assertClean(problems, "drafting and submitting");
  });

  await t.test("the editor finds it in the review queue and requests changes", async () => {
    await signIn(EDITOR);
    const queued = page.locator("#review-queue a", { hasText: TITLE });
    await Promise.all([page.waitForURL((u) => u.pathname === revision), queued.click()]);
    await revisionState("Submitted for review");
    await assertNoAxeViolations(page, "a submitted revision, as an editor");
    await validHtml("a submitted revision, as an editor");
    await page.getByLabel("What needs to change").fill(COMMENT);
    await page.getByRole("button", { name: "Request changes" }).click();
    await revisionState("Changes requested");
    assert.equal((await page.locator("#editor-comment").textContent()).trim(), COMMENT);
    await signOut();
    assertClean(problems, "requesting changes");
  });

  await t.test("the publisher reads the comment, fixes the entry and resubmits", async () => {
    await signIn(PUBLISHER);
    const draft = page.locator("#drafts tr", { hasText: TITLE });
    assert.match(await draft.textContent(), /Changes requested/, "the dashboard shows changes are requested");
    await Promise.all([page.waitForURL((u) => u.pathname === revision), draft.getByRole("link").click()]);
    assert.equal((await page.locator("#editor-comment").textContent()).trim(), COMMENT);
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/standards/${SLUG}/edit`),
      page.getByRole("link", { name: "Edit this draft" }).click(),
    ]);
    assert.equal(await page.getByLabel(/^Title/).inputValue(), TITLE, "the form opens the draft");
    await assertNoAxeViolations(page, "the edit form");
    await validHtml("the edit form");
    const socialCare = page.locator("#field-care_settings").getByLabel("Social care", { exact: true });
    assert.equal(await socialCare.isChecked(), false);
    await socialCare.check();
    await Promise.all([
      page.waitForURL((u) => u.pathname === revision),
      page.getByRole("button", { name: "Submit for review" }).click(),
    ]);
    await revisionState("Submitted for review");
    const row = page.locator("#differences tr", { hasText: "Care settings" });
    assert.match(await row.textContent(), /hospital, social-care/, "the revision shows the fixed field");
    await signOut();
    assertClean(problems, "fixing and resubmitting");
  });

  await t.test("the editor publishes it", async () => {
    await signIn(EDITOR);
    await Promise.all([
      page.waitForURL((u) => u.pathname === revision),
      page.locator("#review-queue a", { hasText: TITLE }).click(),
    ]);
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/standards/${SLUG}`),
      page.getByRole("button", { name: "Publish" }).click(),
    ]);
    assert.equal((await page.locator("h1").textContent()).trim(), TITLE);
    await signOut();
    assertClean(problems, "publishing");
  });

  await t.test("a signed-out visitor sees the entry and finds it by searching", async () => {
    await page.goto(`${server.url}/`);
    await page.locator("#search-field").click();
    await typeWithSuggestions(page, "wound photograph");
    await problems.settle();
    await Promise.all([
      page.waitForURL((u) => u.pathname === "/search"),
      page.locator("form[role=search] button[type=submit]").click(),
    ]);
    assert.ok((await resultTitles(page)).includes(TITLE), "the search finds the new entry");
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/standards/${SLUG}`),
      page.locator(".app-results .app-result h3 a", { hasText: TITLE }).click(),
    ]);
    assert.equal((await page.locator("h1").textContent()).trim(), TITLE);

    // Its public history has the published version only.
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/standards/${SLUG}/history`),
      page.getByRole("link", { name: "History of this entry" }).click(),
    ]);
    const steps = await historySteps();
    assert.equal(steps.length, 1, `one published version: ${steps.join(" | ")}`);
    assert.match(steps[0], /Published as a new entry/);
    const main = await page.locator("main").textContent();
    assert.ok(!main.includes(COMMENT) && !main.includes("Drafted"), "no draft steps for the public");
    assert.ok(!main.includes("@example.org"), "no one's email for the public");
    await assertNoAxeViolations(page, "the public history");
    await validHtml("the public history");
    assertClean(problems, "the visitor");
  });

  await t.test("the history shows every step with the differences", async () => {
    await signIn(EDITOR);
    await page.goto(`${server.url}/standards/${SLUG}`);
    await Promise.all([
      page.waitForURL((u) => u.pathname === `/standards/${SLUG}/history`),
      page.getByRole("link", { name: "History of this entry" }).click(),
    ]);
    const steps = await historySteps();
    const expected = [
      ["Drafted by publisher@example.org", "A new entry:", `Title: (empty) → ${TITLE}`, "Care settings: (empty) → hospital"],
      ["Submitted for review by publisher@example.org", "Revision 1"],
      ["Changes requested by editor@example.org", `Comment: ${COMMENT}`],
      ["Draft changed by publisher@example.org", "Changes from the previous draft:", "Care settings: hospital → hospital, social-care"],
      ["Resubmitted for review by publisher@example.org", "Revision 1"],
      ["Published as a new entry by editor@example.org", "Revision 1", `Title: (empty) → ${TITLE}`],
    ];
    assert.equal(steps.length, expected.length, `the steps:\n${steps.join("\n")}`);
    expected.forEach((texts, i) => {
      for (const text of texts) assert.ok(steps[i].includes(text), `step ${i + 1} has "${text}": ${steps[i]}`);
    });
    assert.ok(!/Title:/.test(steps[3]), `the fix changed only the care settings: ${steps[3]}`);
    await assertNoAxeViolations(page, "the history with every step");
    await validHtml("the history with every step");

    // Compare the first draft with the published version.
    await page.getByLabel("Compare").selectOption({ label: (await page.locator("#from option", { hasText: /^Draft/ }).last().textContent()).trim() });
    await page.getByLabel("with").selectOption({ label: (await page.locator("#to option", { hasText: /^Version/ }).first().textContent()).trim() });
    await Promise.all([
      page.waitForURL((u) => u.searchParams.has("from") && u.searchParams.has("to")),
      page.getByRole("button", { name: "Compare" }).click(),
    ]);
    const changed = page.locator("#compare tr", { hasText: "Care settings" });
    assert.deepEqual(
      (await changed.locator("td").allTextContents()).map((t) => t.trim()),
      ["hospital", "hospital, social-care"],
    );
    await assertNoAxeViolations(page, "a comparison on the history page");
    await validHtml("a comparison on the history page");
    assertClean(problems, "the history");
  });
});
