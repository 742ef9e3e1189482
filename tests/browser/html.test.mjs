// The HTML the server sends for every page template (fetched as it is
// served, not the live DOM) passes html-validate's recommended rules.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HtmlValidate, formatterFactory } from "html-validate";
import { startServer } from "./server.mjs";
import { templatePages } from "./browser.mjs";

export const config = {
  extends: ["html-validate:recommended"],
  rules: {
    // No rule is switched off. One is configured: form-dup-name allows a
    // shared name for radios and buttons by default but not for checkboxes.
    // The search filters are groups of checkboxes sharing a name
    // (name="care_setting" value="hospital", name="care_setting"
    // value="pharmacy", ...), which is how HTML submits several values for
    // one field (?care_setting=hospital&care_setting=pharmacy), as the NHS.UK
    // checkboxes component documents it and as the site's URLs and API take
    // them. Duplicate names between any other controls remain errors.
    "form-dup-name": ["error", { shared: ["radio", "checkbox", "button", "reset", "submit"] }],
  },
};

const validator = new HtmlValidate(config);
const format = formatterFactory("text");

let server;
let pages;

before(async () => {
  server = await startServer();
  pages = await templatePages(server);
});

after(async () => {
  await server?.stop();
});

test("html-validate: every page template as served", async (t) => {
  for (const { name, path, status } of pages) {
    await t.test(`${name}: ${path}`, async () => {
      const response = await fetch(server.url + path, { headers: { Accept: "text/html" } });
      assert.equal(response.status, status, `status of ${path}`);
      const html = await response.text();
      const report = await validator.validateString(html, path);
      assert.ok(report.valid, `html-validate on ${path}:\n${format(report.results)}`);
    });
  }
});

test("html-validate: the check can fail", async () => {
  const report = await validator.validateString(
    '<!DOCTYPE html><html lang="en"><head><title>x</title></head><body><p><div></div></p><img src="x"></body></html>',
    "broken.html",
  );
  assert.equal(report.valid, false);
  assert.ok(report.errorCount >= 2, format(report.results));
});
