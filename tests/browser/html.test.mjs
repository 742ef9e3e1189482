// The HTML the server sends for every page template (fetched as it is
// served, not the live DOM) passes html-validate's recommended rules.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { HtmlValidate, formatterFactory } from "html-validate";
import { startServer } from "./server.mjs";
import { templatePages } from "./browser.mjs";
import { config } from "./html-validate.config.mjs";

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
