// People and accounts, as the people concerned would use them.
//
// An administrator adds a publisher (getting the form wrong first), makes
// a one-time link for them to set a password and reads it from the page.
// The publisher, in a browser of their own and signed out, opens the link,
// tries a password the rules refuse, then a good one, and is signed in.
// They create an API token, read it once, use it, find it gone from their
// account page, revoke it and see the API refuse it. The link, opened
// again, says it has been used. The administrator disables them and their
// next page is signed out; enabled again, they sign in with their
// password. The change-password and add-person forms are then completed by
// keyboard alone, and an administrator meets the refusals of their own
// page and of a link for someone disabled meanwhile.
//
// On the way, every page and every error state is checked with axe (the
// page's CSP left on) and html-validate (the HTML as the browser received
// it, POST answers included), and every page must load without console
// errors, page errors, CSP violations, failed requests or requests to other
// hosts.
//
// Sign-in attempts and password changes are limited to 10 a minute from
// one address; this file makes 6 (see ATTEMPTS below), all counted where
// they happen.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startServer } from "./server.mjs";
import {
  launchBrowser,
  newContext,
  watch,
  assertClean,
  assertNoAxeViolations,
  assertValidHtml,
  trackDocuments,
  waitForFocus,
  tabTo,
  assertFocusVisible,
} from "./browser.mjs";

const CATALOGUE = JSON.parse(readFileSync(new URL("../../demo/catalogue.json", import.meta.url), "utf8"));

/** A demo organisation's name, from the catalogue the server loads. */
function organisationName(slug) {
  const found = CATALOGUE.organisations.find((o) => o.slug === slug);
  assert.ok(found, `the demo catalogue has the organisation ${slug}`);
  return found.name;
}

const ADMIN = { email: "admin@example.org", password: "marble canyon teapot" };
const NEWCOMER = {
  email: "ayesha.okafor@example.org",
  weak: "Password2024!",
  password: "velvet otter lighthouse",
  organisation: "interopen",
};
const KEYBOARD_EDITOR = { email: "kb.editor@example.org", password: "tulip anchor drizzle", next: "saffron kite glacier" };
const KEYBOARD_PERSON = { email: "kb.person@example.org", organisation: "snomed-international" };
// Disabled from the command line while an administrator has their page open.
const DISABLED_MEANWHILE = "leaving.soon@example.org";
const TOKEN_NAMES = ["Nightly export script", "Dashboard sync"];
const API_TOKEN = /^std_[0-9a-f]{64}$/;

// Every sign-in and every password change with a current password counts
// against the limit of 10 a minute from one address. This file's, in
// order: the administrator signs in (1); the newcomer signs in after being
// enabled again (2); the keyboard editor signs in (3), changes their
// password wrongly (4) and rightly (5), and signs in with the new one (6).
// Setting a password with a link does not count.
const ATTEMPTS = { allowed: 10, made: 0 };
function attempt(what) {
  ATTEMPTS.made += 1;
  assert.ok(ATTEMPTS.made <= 6, `${what}: this file keeps to 6 attempts a minute (of ${ATTEMPTS.allowed})`);
}

let server;
let browser;
const contexts = [];
// The administrator of the first test, whose session the keyboard test
// goes on with (so that it spends no sign-in).
let administrator;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await server.cli(["user", "add", ADMIN.email, "--role", "admin", "--password-stdin"], `${ADMIN.password}\n`);
  await server.cli(
    ["user", "add", KEYBOARD_EDITOR.email, "--role", "editor", "--password-stdin"],
    `${KEYBOARD_EDITOR.password}\n`,
  );
  await server.cli(["user", "add", DISABLED_MEANWHILE, "--role", "editor"]);
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

// ------------------------------------------------------------- helpers

/**
 * Someone at a browser of their own: a context (no cookies shared with
 * anyone else), one page, the problem watcher on it and the last document
 * the page navigated to (after redirects), so that a page answering a POST
 * can be read as served. `status` is the error status this person's pages
 * may answer with by design (422 for a form with mistakes, 410 for a used
 * link); the watcher lets it through for the page itself only.
 */
async function someone(name, { status = 422 } = {}) {
  const context = await newContext(browser, server);
  contexts.push(context);
  const page = await context.newPage();
  const problems = watch(page, server.origin, { expectedStatus: status });
  return { name, context, page, problems, documents: trackDocuments(page) };
}

/** Opens an address as typed into the address bar (a path, or a whole URL). */
async function visit(who, address) {
  await who.problems.settle(100);
  return who.page.goto(address.startsWith("/") ? server.url + address : address);
}

/**
 * Clicks a locator, or does something (a function, such as a key press),
 * that loads a page; waits for that page's load event (the address may be
 * the same, as when a form posts to itself) and checks where it landed: a
 * path, or a test of the URL.
 */
async function follow(who, what, where) {
  await who.problems.settle(100);
  const loaded = who.page.waitForEvent("load");
  if (typeof what === "function") await what();
  else await what.click();
  await loaded;
  const url = new URL(who.page.url());
  const arrived = typeof where === "function" ? where(url) : url.pathname === where;
  assert.ok(arrived, `${who.name} landed on ${url.pathname}${url.search}`);
  return url;
}

/** The page shown now as the server sent it: the response, checked for its status, and its HTML. */
async function served(who, where, status) {
  const response = who.documents.last;
  assert.ok(response, `${where}: a page was loaded`);
  assert.equal(new URL(response.url()).pathname, new URL(who.page.url()).pathname, `${where}: the response is the page shown`);
  assert.equal(response.status(), status, `${where}: the status of ${response.request().method()} ${response.url()}`);
  return { response, html: await response.text() };
}

/** html-validate on the page's HTML as served. */
async function validHtml(who, where, status) {
  const { html } = await served(who, where, status);
  await assertValidHtml(html, where);
}

/** Every check of the page shown: its status, one h1, axe, html-validate, and nothing gone wrong loading it. */
async function check(who, where, status = 200) {
  await who.problems.settle();
  assert.equal(await who.page.locator("h1").count(), 1, `${where}: one h1`);
  await assertNoAxeViolations(who.page, where);
  await validHtml(who, where, status);
  assertClean(who.problems, where);
}

/**
 * The error summary after a failed submit: it has the focus, the title
 * starts with "Error: ", and each of its links leads to a field that shows
 * the same message. Returns the [href, text] of its links.
 */
async function errorSummary(who, where) {
  await waitForFocus(who.page, ".nhsuk-error-summary", where);
  assert.match(await who.page.title(), /^Error: /, `${where}: the title says there is an error`);
  const summary = who.page.locator(".nhsuk-error-summary");
  assert.equal((await summary.locator("h2").textContent()).trim(), "There is a problem");
  const links = [];
  for (const link of await summary.locator("a").all()) {
    const href = await link.getAttribute("href");
    const text = (await link.textContent()).trim();
    const id = href.slice(1);
    assert.equal(await who.page.locator(`[id="${id}"]`).count(), 1, `${where}: ${href} has its field`);
    const message = (await who.page.locator(`[id="${id}-error"]`).textContent()).replace(/^\s*Error:\s*/, "").trim();
    assert.equal(message, text, `${where}: the field ${href} shows the summary's message`);
    links.push([href, text]);
  }
  return links;
}

/** Signs in with the form, from the "Sign in" link in the header of the home page. */
async function signIn(who, { email, password }) {
  attempt(`${email} signs in`);
  await visit(who, "/");
  await follow(who, who.page.getByRole("link", { name: "Sign in" }), "/sign-in");
  await who.page.getByLabel("Email address").fill(email);
  await who.page.getByLabel("Password").fill(password);
  await follow(who, who.page.getByRole("button", { name: "Sign in" }), "/dashboard");
  assert.match(await who.page.locator("main").textContent(), new RegExp(`Signed in as ${escape(email)} `));
}

/** Signed out: the header offers "Sign in" and no "Sign out". */
async function assertSignedOut(who, where) {
  assert.equal(await who.page.getByRole("link", { name: "Sign in" }).count(), 1, `${where}: the header offers Sign in`);
  assert.equal(await who.page.getByRole("button", { name: "Sign out" }).count(), 0, `${where}: no Sign out button`);
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The text of an element with its spaces collapsed. */
async function text(locator) {
  return (await locator.textContent()).replace(/\s+/g, " ").trim();
}

/** A summary list (`dl`) as an object of key to value. */
async function summaryList(locator) {
  const out = {};
  for (const row of await locator.locator(".nhsuk-summary-list__row").all()) {
    out[await text(row.locator("dt"))] = await text(row.locator("dd"));
  }
  return out;
}

/** The row of a table whose first cell is `name`, as its cells' texts. */
async function tableRow(who, table, name) {
  const rows = who.page.locator(`${table} tbody tr`).filter({ has: who.page.locator("td:first-child", { hasText: name }) });
  assert.equal(await rows.count(), 1, `one row for ${name} in ${table}`);
  return Promise.all((await rows.locator("td").all()).map(text));
}

/** Whether a text is anywhere in the page shown: its served HTML, its DOM or a field's value. */
async function pageHolds(who, secret) {
  const { html } = await served(who, "the page", who.documents.last.status());
  const live = await who.page.content();
  const values = await who.page.evaluate(() => [...document.querySelectorAll("input, textarea")].map((el) => el.value));
  return html.includes(secret) || live.includes(secret) || values.some((v) => v.includes(secret));
}

/** A page's HTML fetched with this person's cookies, outside their page. */
async function fetchAsPage(who, path) {
  const response = await who.context.request.get(server.url + path, { maxRedirects: 0 });
  assert.equal(response.status(), 200, `GET ${path} as ${who.name}`);
  return response.text();
}

/** The token with its last character changed. */
function mistyped(token) {
  return token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
}

/** GET /api/v1/revisions with `Authorization: Bearer TOKEN`, from outside the browser. */
async function revisionsWith(token) {
  const response = await fetch(`${server.url}/api/v1/revisions`, { headers: { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

// --------------------------------------------------------------- tests

test("an administrator adds a publisher, who sets a password with a one-time link and manages API tokens", async (t) => {
  const admin = await someone("the administrator");
  administrator = admin;
  const newcomer = await someone("the newcomer");
  let personPage;
  let link;
  let token;

  await t.test("the administrator signs in and opens People from the dashboard", async () => {
    await signIn(admin, ADMIN);
    await check(admin, "the dashboard, as an administrator");
    await follow(admin, admin.page.getByRole("link", { name: /^People: / }), "/admin/people");
    assert.equal(await text(admin.page.locator("h1")), "People");
    assert.deepEqual((await tableRow(admin, "#people", ADMIN.email)).slice(1, 4), ["Administrator", "None", "Active"]);
    assert.deepEqual((await tableRow(admin, "#people", KEYBOARD_EDITOR.email)).slice(1, 4), ["Editor", "None", "Active"]);
    const { response } = await served(admin, "the people list", 200);
    assert.equal(response.headers()["cache-control"], "no-store", "the list of people is not cached");
    await check(admin, "the people list");
  });

  await t.test("the add-person form (where the list links) refuses a bad email and a publisher without an organisation", async () => {
    const add = admin.page.getByRole("link", { name: "Add a person" });
    const address = await add.getAttribute("href");
    await follow(admin, add, address);
    assert.equal(await text(admin.page.locator("h1")), "Add a person");
    assert.equal(await admin.page.locator(".nhsuk-error-summary").count(), 0, "no errors before a submit");
    assert.equal(await admin.page.getByLabel("Organisation").inputValue(), "", "the organisation starts as None");
    await check(admin, "the add-person form");

    await admin.page.getByLabel("Email address").fill("ayesha.okafor.example.org");
    await admin.page.getByLabel("Publisher").check();
    await follow(admin, admin.page.getByRole("button", { name: "Add person" }), address);
    assert.deepEqual(await errorSummary(admin, "the add-person form with mistakes"), [
      ["#field-email", "Email address: `ayesha.okafor.example.org` is not an email address"],
      ["#field-organisation", "Organisation: a publisher belongs to an organisation: choose one"],
    ]);
    // What was typed and chosen is kept, to correct.
    assert.equal(await admin.page.getByLabel("Email address").inputValue(), "ayesha.okafor.example.org");
    assert.equal(await admin.page.getByLabel("Publisher").isChecked(), true);
    assert.equal(await admin.page.locator(".nhsuk-form-group--error").count(), 2, "both fields are marked");
    await check(admin, "the add-person form with mistakes", 422);
    const listed = await fetchAsPage(admin, "/admin/people");
    assert.ok(!listed.includes("ayesha.okafor"), "nobody was added");
  });

  await t.test("corrected, the person is added and their page shows them, with no password yet", async () => {
    await admin.page.getByLabel("Email address").fill(NEWCOMER.email);
    await admin.page.getByLabel("Organisation").selectOption({ label: organisationName(NEWCOMER.organisation) });
    const added = (u) => /^\/admin\/people\/[^/]+$/.test(u.pathname) && u.searchParams.get("done") === "added";
    await follow(admin, admin.page.getByRole("button", { name: "Add person" }), added);
    personPage = new URL(admin.page.url()).pathname;
    assert.equal(await text(admin.page.locator("h1")), NEWCOMER.email);
    assert.equal(
      await text(admin.page.locator("#notice")),
      `${NEWCOMER.email} was added. Make a link for them to set a password so that they can sign in.`,
    );
    const details = await summaryList(admin.page.locator("#person-details"));
    assert.equal(details.Role, "Publisher");
    assert.equal(details.Organisation, organisationName(NEWCOMER.organisation));
    assert.equal(details.Status, "No password yet");
    assert.equal(await admin.page.getByLabel("Publisher").isChecked(), true, "the role form shows the role");
    assert.equal(await admin.page.getByLabel("Organisation").inputValue(), NEWCOMER.organisation);
    await check(admin, "a new person's page");
  });

  await t.test("the administrator makes a link to set a password and reads it from the page", async () => {
    await follow(admin, admin.page.getByRole("button", { name: "Make a link to set a password" }), `${personPage}/password-link`);
    assert.equal(await text(admin.page.locator("h1")), `Link to set a password for ${NEWCOMER.email}`);
    assert.match(await text(admin.page.locator(".nhsuk-warning-callout")), /Copy the link now It will not be shown again\./);
    link = await admin.page.getByLabel("Link").inputValue();
    assert.match(link, new RegExp(`^${escape(server.url)}/set-password/[^/?#\\s]{20,}$`), "a link to this site");
    assert.equal(await admin.page.getByLabel("Link").getAttribute("readonly"), "", "the link can be copied, not changed");
    assert.match(await text(admin.page.locator("#password-link-hint")), /^It works once, until \d{1,2} \w+ \d{4}, \d\d:\d\d UTC\./);
    const { response } = await served(admin, "the link page", 200);
    assert.equal(response.headers()["cache-control"], "no-store", "the page with the link is not cached");
    await check(admin, "the page with a link to set a password");
  });

  await t.test("signed out, the newcomer opens the link; a common password is refused with the rule's message", async () => {
    const response = await visit(newcomer, link);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()["referrer-policy"], "no-referrer", "the link's token stays out of other sites' logs");
    assert.equal(response.headers()["cache-control"], "no-store");
    await assertSignedOut(newcomer, "the set-password form");
    assert.equal(await text(newcomer.page.locator("h1")), "Set your password");
    assert.ok(
      (await text(newcomer.page.locator("main"))).includes(`Choose a password for ${NEWCOMER.email}. You will be signed in when it is set.`),
      "the form says whose password it sets",
    );
    assert.equal(await newcomer.page.locator('link[rel="canonical"]').count(), 0, "no canonical address holding the token");
    assert.equal(await newcomer.page.locator('meta[name="robots"]').getAttribute("content"), "noindex");
    assert.match(await text(newcomer.page.locator("#field-new_password-hint")), /^At least 12 characters\./);
    await check(newcomer, "the set-password form");

    await newcomer.page.getByLabel("Password", { exact: true }).fill(NEWCOMER.weak);
    await newcomer.page.getByLabel("Type the password again").fill(NEWCOMER.weak);
    await follow(newcomer, newcomer.page.getByRole("button", { name: "Set password" }), new URL(link).pathname);
    assert.deepEqual(await errorSummary(newcomer, "the set-password form with a common password"), [
      ["#field-new_password", "Password is too common and easy to guess. Choose another, such as three random words."],
    ]);
    assert.equal(await newcomer.page.getByLabel("Password", { exact: true }).inputValue(), "", "a password is never sent back");
    assert.equal(await newcomer.page.getByLabel("Type the password again").inputValue(), "");
    await assertSignedOut(newcomer, "the set-password form with a common password");
    await check(newcomer, "the set-password form with a common password", 422);
  });

  await t.test("a good password (three random words) is set and the newcomer is signed in", async () => {
    await newcomer.page.getByLabel("Password", { exact: true }).fill(NEWCOMER.password);
    await newcomer.page.getByLabel("Type the password again").fill(NEWCOMER.password);
    await follow(newcomer, newcomer.page.getByRole("button", { name: "Set password" }), "/dashboard");
    assert.match(await text(newcomer.page.locator("main")), new RegExp(`Signed in as ${escape(NEWCOMER.email)} \\(Publisher\\)\\.`));
    assert.equal(await newcomer.page.getByRole("link", { name: "People: add people, change roles, links to set a password" }).count(), 0);
    await check(newcomer, "the dashboard, as the new publisher");
  });

  await t.test("their account page shows their details and no API tokens", async () => {
    await follow(newcomer, newcomer.page.getByRole("link", { name: "Your account: password and API tokens" }), "/account");
    assert.equal(await text(newcomer.page.locator("h1")), "Your account");
    assert.deepEqual(await summaryList(newcomer.page.locator("#account-details")), {
      "Email address": NEWCOMER.email,
      Role: "Publisher",
      Organisation: organisationName(NEWCOMER.organisation),
    });
    assert.match(await text(newcomer.page.locator("main")), /You have no API tokens\./);
    await check(newcomer, "the account page with no tokens");
  });

  await t.test("the token form refuses an empty name and a bad number of days", async () => {
    await follow(newcomer, newcomer.page.getByRole("link", { name: "Create an API token" }), "/account/tokens/new");
    assert.equal(await newcomer.page.getByLabel(/^Days until it expires/).inputValue(), "90", "the form suggests 90 days");
    await check(newcomer, "the token form");
    await newcomer.page.getByLabel(/^Days until it expires/).fill("ten");
    await follow(newcomer, newcomer.page.getByRole("button", { name: "Create token" }), "/account/tokens/new");
    assert.deepEqual(await errorSummary(newcomer, "the token form with mistakes"), [
      ["#field-name", "Enter a name for the token"],
      ["#field-expires", "Days until it expires must be a whole number from 1 to 3650, or empty"],
    ]);
    assert.equal(await newcomer.page.getByLabel(/^Days until it expires/).inputValue(), "ten", "what was typed is kept");
    await check(newcomer, "the token form with mistakes", 422);
  });

  await t.test("a token is created and shown once; it works with the API", async () => {
    await newcomer.page.getByLabel("Name").fill(TOKEN_NAMES[0]);
    await newcomer.page.getByLabel(/^Days until it expires/).fill("30");
    await follow(newcomer, newcomer.page.getByRole("button", { name: "Create token" }), "/account/tokens/new");
    assert.equal(await text(newcomer.page.locator("h1")), "Your new API token");
    const field = newcomer.page.getByLabel(`API token: ${TOKEN_NAMES[0]}`);
    token = await field.inputValue();
    assert.match(token, API_TOKEN);
    assert.match(await text(newcomer.page.locator("#new-token-hint")), /^It works until \d{1,2} \w+ \d{4}, \d\d:\d\d UTC\.$/);
    const { response } = await served(newcomer, "the new token page", 200);
    assert.equal(response.headers()["cache-control"], "no-store", "the page with the token is not cached");
    assert.ok(await pageHolds(newcomer, token), "the token is on this page (so its absence later means something)");
    await check(newcomer, "the new token page");

    assert.equal(await revisionsWith(token), 200, "the token works on /api/v1/revisions");
    assert.equal(await revisionsWith(mistyped(token)), 401, "a token one character off does not");
  });

  await t.test("back on the account page the token is listed by name, but its text is not there", async () => {
    await follow(newcomer, newcomer.page.getByRole("link", { name: "Back to your account" }), "/account");
    assert.equal(await pageHolds(newcomer, token), false, "the token is not on the account page");
    await newcomer.problems.settle(100);
    await newcomer.page.reload();
    assert.equal(new URL(newcomer.page.url()).pathname, "/account");
    assert.equal(await pageHolds(newcomer, token), false, "nor after a reload");
    const [name, , expires, lastUsed, status] = await tableRow(newcomer, "#tokens", TOKEN_NAMES[0]);
    assert.equal(name, TOKEN_NAMES[0]);
    assert.match(expires, /^\d{1,2} \w+ \d{4}, \d\d:\d\d UTC$/);
    assert.notEqual(lastUsed, "No use recorded", "its use by the API is recorded");
    assert.equal(status, "Active");
    await check(newcomer, "the account page with a token");
  });

  await t.test("revoked, the token no longer works", async () => {
    await follow(newcomer, newcomer.page.getByRole("button", { name: `Revoke ${TOKEN_NAMES[0]}` }), "/account");
    assert.equal(await text(newcomer.page.locator("#notice")), `The API token ${TOKEN_NAMES[0]} was revoked. It no longer works.`);
    assert.equal((await tableRow(newcomer, "#tokens", TOKEN_NAMES[0]))[4], "Revoked");
    assert.equal(await newcomer.page.getByRole("button", { name: `Revoke ${TOKEN_NAMES[0]}` }).count(), 0, "nothing left to revoke");
    assert.equal(await revisionsWith(token), 401, "the API refuses the revoked token");
    await check(newcomer, "the account page after revoking a token");
  });

  await t.test("the link, opened again in another browser, has been used", async () => {
    const again = await someone("someone opening the used link", { status: 410 });
    const response = await visit(again, link);
    assert.equal(response.status(), 410);
    assert.equal(await text(again.page.locator("h1")), "This link has already been used");
    assert.match(await text(again.page.locator("main")), /Each link to set a password works once\./);
    assert.equal(await again.page.locator("form input[type=password]").count(), 0, "no form");
    await assertSignedOut(again, "the used link");
    await check(again, "the page for a used link", 410);
  });

  let second;
  await t.test("the newcomer makes a second token, which works until revoked", async () => {
    await follow(newcomer, newcomer.page.getByRole("link", { name: "Create an API token" }), "/account/tokens/new");
    await newcomer.page.getByLabel("Name").fill(TOKEN_NAMES[1]);
    await newcomer.page.getByLabel(/^Days until it expires/).fill("");
    await follow(newcomer, newcomer.page.getByRole("button", { name: "Create token" }), "/account/tokens/new");
    second = await newcomer.page.getByLabel(`API token: ${TOKEN_NAMES[1]}`).inputValue();
    assert.match(second, API_TOKEN);
    assert.notEqual(second, token);
    assert.equal(await text(newcomer.page.locator("#new-token-hint")), "It works until you revoke it.");
    await check(newcomer, "the new token page, for a token that does not expire");
    assert.equal(await revisionsWith(second), 200);
    await follow(newcomer, newcomer.page.getByRole("link", { name: "Back to your account" }), "/account");
  });

  let spareLink;
  await t.test("the administrator disables the newcomer; their next page is signed out and their token stops", async () => {
    await visit(admin, "/admin/people");
    assert.deepEqual((await tableRow(admin, "#people", NEWCOMER.email)).slice(1, 4), [
      "Publisher",
      organisationName(NEWCOMER.organisation),
      "Active",
    ]);
    await follow(admin, admin.page.getByRole("link", { name: NEWCOMER.email }), personPage);
    // A link made now and never used stops working too.
    await follow(admin, admin.page.getByRole("button", { name: "Make a link to set a password" }), `${personPage}/password-link`);
    spareLink = await admin.page.getByLabel("Link").inputValue();
    assert.notEqual(spareLink, link);
    await follow(admin, admin.page.getByRole("link", { name: `Back to ${NEWCOMER.email}` }), personPage);

    await follow(admin, admin.page.getByRole("button", { name: `Disable ${NEWCOMER.email}` }), personPage);
    assert.equal(new URL(admin.page.url()).searchParams.get("done"), "disabled");
    assert.equal(await text(admin.page.locator("#notice")), `${NEWCOMER.email} was disabled.`);
    assert.equal(await text(admin.page.locator("#person-status")), "Disabled");
    assert.equal(await admin.page.getByRole("button", { name: "Make a link to set a password" }).count(), 0);
    assert.match(await text(admin.page.locator("main")), /Enable them before making a link\./);
    await check(admin, "a disabled person's page");

    await newcomer.problems.settle(100);
    await newcomer.page.reload();
    assert.equal(new URL(newcomer.page.url()).pathname, "/sign-in", "the account page sends them to sign in");
    await assertSignedOut(newcomer, "the newcomer's next page");
    assertClean(newcomer.problems, "the newcomer's next page");
    assert.equal(await revisionsWith(second), 401, "a disabled person's token does not work");

    const opener = await someone("someone opening the spare link", { status: 410 });
    const response = await visit(opener, spareLink);
    assert.equal(response.status(), 410);
    assert.equal(await text(opener.page.locator("h1")), "This link no longer works");
    assert.match(await text(opener.page.locator("main")), /The account it is for has been disabled\./);
    await check(opener, "the page for a link to a disabled account", 410);
  });

  await t.test("enabled again and made an editor (after a refused change), the newcomer signs in with their password", async () => {
    await follow(admin, admin.page.getByRole("button", { name: `Enable ${NEWCOMER.email}` }), personPage);
    assert.equal(await text(admin.page.locator("#notice")), `${NEWCOMER.email} was enabled.`);
    assert.equal(await text(admin.page.locator("#person-status")), "Active");

    await admin.page.getByLabel("Organisation").selectOption({ label: "None" });
    await follow(admin, admin.page.getByRole("button", { name: "Save role and organisation" }), personPage);
    assert.deepEqual(await errorSummary(admin, "a person's page with a refused change"), [
      ["#field-organisation", "Organisation: a publisher belongs to an organisation: choose one"],
    ]);
    const kept = await summaryList(admin.page.locator("#person-details"));
    assert.equal(kept.Organisation, organisationName(NEWCOMER.organisation), "nothing was saved");
    await check(admin, "a person's page with a refused change", 422);

    await admin.page.getByLabel("Editor").check();
    await follow(admin, admin.page.getByRole("button", { name: "Save role and organisation" }), personPage);
    assert.equal(await text(admin.page.locator("#notice")), `${NEWCOMER.email}'s role and organisation were saved.`);
    const details = await summaryList(admin.page.locator("#person-details"));
    assert.equal(details.Role, "Editor");
    assert.equal(details.Organisation, "None");
    await check(admin, "a person's page after a change");

    await signIn(newcomer, { email: NEWCOMER.email, password: NEWCOMER.password });
    assert.match(await text(newcomer.page.locator("main")), /\(Editor\)\./);
    await follow(newcomer, newcomer.page.getByRole("link", { name: "Your account: password and API tokens" }), "/account");
    const account = await summaryList(newcomer.page.locator("#account-details"));
    assert.equal(account.Role, "Editor");
    assert.equal(account.Organisation, "None");
    // Enabling lets a token that was not revoked work again.
    assert.equal((await tableRow(newcomer, "#tokens", TOKEN_NAMES[1]))[4], "Active");
    assert.equal(await revisionsWith(second), 200);
    assert.equal(await revisionsWith(token), 401, "the revoked one stays revoked");
    await check(newcomer, "the account page, enabled again");
  });
});

test("the change-password and add-person forms by keyboard alone, the error summary taking the focus", async (t) => {
  const editor = await someone("the keyboard editor");
  const admin = administrator;

  await t.test("the editor reaches the change-password form by keyboard", async () => {
    await signIn(editor, KEYBOARD_EDITOR);
    await visit(editor, "/account");
    await tabTo(editor.page, 'a[href="/account/password"]');
    await assertFocusVisible(editor.page, 'a[href="/account/password"]');
    await follow(editor, () => editor.page.keyboard.press("Enter"), "/account/password");
    assert.equal(await text(editor.page.locator("h1")), "Change your password");
    await check(editor, "the change-password form");
  });

  await t.test("a wrong current password and a mistyped new one: the summary takes the focus and leads to the fields", async () => {
    const keys = editor.page.keyboard;
    await tabTo(editor.page, "#field-current_password");
    await assertFocusVisible(editor.page, "#field-current_password");
    await keys.type("not my password at all");
    await keys.press("Tab");
    await assertFocusVisible(editor.page, "#field-new_password");
    await keys.type(KEYBOARD_EDITOR.next);
    await keys.press("Tab");
    await assertFocusVisible(editor.page, "#field-confirm_password");
    await keys.type(`${KEYBOARD_EDITOR.next}s`);
    await keys.press("Tab");
    await assertFocusVisible(editor.page, "button[type=submit]");
    assert.equal(await text(editor.page.locator(":focus")), "Change password");
    attempt("a password change with the wrong current password");
    await follow(editor, () => keys.press("Enter"), "/account/password");
    assert.deepEqual(await errorSummary(editor, "the change-password form with mistakes"), [
      ["#field-current_password", "Your current password is not right"],
      ["#field-confirm_password", "The passwords do not match: type the same password twice"],
    ]);
    for (const label of ["Current password", "New password", "Type the new password again"]) {
      assert.equal(await editor.page.getByLabel(label, { exact: true }).inputValue(), "", `${label}: a password is never sent back`);
    }
    await check(editor, "the change-password form with mistakes", 422);

    // Tab from the summary reaches its first link; Enter moves the focus to
    // that field.
    await keys.press("Tab");
    await assertFocusVisible(editor.page, '.nhsuk-error-summary a[href="#field-current_password"]');
    await keys.press("Enter");
    await waitForFocus(editor.page, "#field-current_password", "the summary's first link");
    await assertFocusVisible(editor.page, "#field-current_password");
  });

  await t.test("corrected by keyboard, the password is changed", async () => {
    const keys = editor.page.keyboard;
    await keys.type(KEYBOARD_EDITOR.password);
    await keys.press("Tab");
    await keys.type(KEYBOARD_EDITOR.next);
    await keys.press("Tab");
    await assertFocusVisible(editor.page, "#field-confirm_password");
    await keys.type(KEYBOARD_EDITOR.next);
    await tabTo(editor.page, "button[type=submit]", { max: 2 });
    await assertFocusVisible(editor.page, "button[type=submit]");
    attempt("the password change");
    await follow(editor, () => keys.press("Enter"), "/account");
    assert.equal(await text(editor.page.locator("#notice")), "Your password was changed. You have been signed out everywhere else.");
    await check(editor, "the account page after a password change");

    // The new password is the one that signs in now.
    await follow(editor, editor.page.getByRole("button", { name: "Sign out" }), "/");
    await signIn(editor, { email: KEYBOARD_EDITOR.email, password: KEYBOARD_EDITOR.next });
    assertClean(editor.problems, "the keyboard password change");
  });

  await t.test("the administrator opens the add-person form by keyboard and submits it without a role", async () => {
    // The administrator of the first test, still signed in.
    assert.ok(admin, "the first test's administrator");
    await visit(admin, "/admin/people");
    assert.equal(await text(admin.page.locator("h1")), "People");
    await tabTo(admin.page, 'a[href="/admin/people/new"]');
    await assertFocusVisible(admin.page, 'a[href="/admin/people/new"]');
    await follow(admin, () => admin.page.keyboard.press("Enter"), "/admin/people/new");

    const keys = admin.page.keyboard;
    await tabTo(admin.page, "#field-email");
    await assertFocusVisible(admin.page, "#field-email");
    await keys.type(KEYBOARD_PERSON.email);
    // No radio is chosen, so Tab stops on the first and Tab again leaves
    // the group.
    await keys.press("Tab");
    await assertFocusVisible(admin.page, "#field-role");
    assert.equal(await admin.page.locator("#field-role").isChecked(), false, "Tab does not choose");
    await keys.press("Tab");
    await assertFocusVisible(admin.page, "#field-organisation");
    await keys.press("Tab");
    await assertFocusVisible(admin.page, "button[type=submit]");
    await follow(admin, () => keys.press("Enter"), "/admin/people/new");
    assert.deepEqual(await errorSummary(admin, "the add-person form without a role"), [
      ["#field-role", "Role: choose administrator, editor or publisher"],
    ]);
    await check(admin, "the add-person form without a role", 422);
  });

  await t.test("from the summary to the role, arrows choose Publisher, letters choose the organisation, Enter adds them", async () => {
    const keys = admin.page.keyboard;
    await keys.press("Tab");
    await assertFocusVisible(admin.page, '.nhsuk-error-summary a[href="#field-role"]');
    await keys.press("Enter");
    await waitForFocus(admin.page, "#field-role", "the summary's link to the role");
    await assertFocusVisible(admin.page, "#field-role");
    await keys.press("ArrowDown");
    await keys.press("ArrowDown");
    await assertFocusVisible(admin.page, "input[name=role][value=publisher]");
    assert.equal(await admin.page.getByLabel("Publisher").isChecked(), true, "the arrows choose Publisher");
    await keys.press("Tab");
    await assertFocusVisible(admin.page, "#field-organisation");
    // Typing the start of its name chooses it (a space would open the list).
    await keys.type(organisationName(KEYBOARD_PERSON.organisation).split(" ")[0]);
    assert.equal(await admin.page.locator("#field-organisation").inputValue(), KEYBOARD_PERSON.organisation, "typing the name chooses it");
    await keys.press("Tab");
    await assertFocusVisible(admin.page, "button[type=submit]");
    await follow(admin, () => keys.press("Enter"), (u) => /^\/admin\/people\/[^/]+$/.test(u.pathname));
    assert.equal(await text(admin.page.locator("h1")), KEYBOARD_PERSON.email);
    const details = await summaryList(admin.page.locator("#person-details"));
    assert.equal(details.Role, "Publisher");
    assert.equal(details.Organisation, organisationName(KEYBOARD_PERSON.organisation));
    assert.equal(details.Status, "No password yet");
    assertClean(admin.problems, "the keyboard add-person form");
  });
});

test("what an administrator may not do: remove their own role, or make a link for someone disabled meanwhile", async (t) => {
  const admin = administrator;

  await t.test("their own page: no button to disable themselves, and their own role cannot be removed", async () => {
    assert.ok(admin, "the first test's administrator");
    await visit(admin, "/admin/people");
    const own = admin.page.getByRole("link", { name: ADMIN.email, exact: true });
    const address = await own.getAttribute("href");
    await follow(admin, own, address);
    assert.match(
      await text(admin.page.locator("#self-note")),
      /^You cannot disable your own account or remove your own administrator role\./,
    );
    assert.equal(await admin.page.getByRole("button", { name: /^Disable / }).count(), 0);
    await check(admin, "the administrator's own page");

    await admin.page.getByLabel("Editor").check();
    await follow(admin, admin.page.getByRole("button", { name: "Save role and organisation" }), address);
    const [[href, message]] = await errorSummary(admin, "the administrator's own page, removing their role");
    assert.equal(href, "#field-role");
    assert.match(message, /^You cannot remove your own administrator role\. Another administrator must do it/);
    assert.equal((await summaryList(admin.page.locator("#person-details"))).Role, "Administrator", "nothing was saved");
    await check(admin, "the administrator's own page, removing their role", 422);
  });

  let refused;
  await t.test("a link for someone disabled since their page was opened is refused, and none is made", async () => {
    await visit(admin, "/admin/people");
    await follow(admin, admin.page.getByRole("link", { name: DISABLED_MEANWHILE }), (u) => u.pathname.startsWith("/admin/people/"));
    const address = new URL(admin.page.url()).pathname;
    await server.cli(["user", "disable", DISABLED_MEANWHILE]);
    await follow(admin, admin.page.getByRole("button", { name: "Make a link to set a password" }), `${address}/password-link`);
    await waitForFocus(admin.page, ".nhsuk-error-summary", "the refused link");
    assert.match(await admin.page.title(), /^Error: /);
    refused = admin.page.locator(".nhsuk-error-summary a");
    assert.deepEqual(await refused.allTextContents(), ["Enable them before making a link: a disabled person cannot set a password"]);
    assert.equal(await admin.page.locator("#password-link").count(), 0, "no link is shown");
    assert.equal(await text(admin.page.locator("#person-status")), "Disabled");
    await check(admin, "the refused link for someone disabled meanwhile", 422);
  });

  await t.test("the refusal's summary link leads to something on the page", async () => {
    const href = await refused.getAttribute("href");
    assert.equal(await admin.page.locator(`[id="${href.slice(1)}"]`).count(), 1, `the summary's link ${href} has a target`);
  });
});

test("this file's own checks can fail", async (t) => {
  const tester = await someone("the self-check");

  await t.test("the status and HTML are the page's as served", async () => {
    await visit(tester, "/about");
    await assert.rejects(check(tester, "the about page as a 422", 422), /status of GET/);
    await tester.page.route(`${server.url}/help`, (route) =>
      route.fulfill({
        status: 200,
        contentType: "text/html",
        body: "<!DOCTYPE html><html lang=en><head><title>x</title></head><body><h1>x</h1><p><div></div></p></body></html>",
      }),
    );
    await visit(tester, "/help");
    await assert.rejects(validHtml(tester, "a broken page", 200), /html-validate on a broken page/);
    await tester.page.unroute(`${server.url}/help`);
  });

  await t.test("axe, with the CSP on, finds a field without a label", async () => {
    await visit(tester, "/sign-in");
    await assertNoAxeViolations(tester.page, "the sign-in page");
    await tester.page.evaluate(() => {
      const unlabelled = document.createElement("input");
      unlabelled.type = "text";
      document.querySelector("main").append(unlabelled);
    });
    await assert.rejects(assertNoAxeViolations(tester.page, "a field without a label"), /axe on a field without a label:[\s\S]*\blabel\b/);
  });

  await t.test("the focus check", async () => {
    await visit(tester, "/sign-in");
    await assert.rejects(waitForFocus(tester.page, ".nhsuk-error-summary", "a page without errors", 1_000), /focus never moved/);
  });

  await t.test("a page that still holds a text is found to", async () => {
    await visit(tester, "/about");
    assert.equal(await pageHolds(tester, "Standards"), true);
    assert.equal(await pageHolds(tester, "std_not-on-any-page"), false);
    await tester.page.evaluate(() => {
      const field = document.createElement("input");
      field.value = "std_only-in-a-value";
      document.querySelector("main").append(field);
    });
    assert.equal(await pageHolds(tester, "std_only-in-a-value"), true, "a field's value counts");
  });
});
