// End-to-end tests: a real `layer4 dev` (free ports, temporary data) serving the built
// client, driven in Debian's Chromium. Writes screenshots of the main screens in both
// themes to e2e/out/. Exit code 0 only when every step passed.
//
//   npm --prefix web run test:e2e        (LAYER4_BIN=path/to/layer4 to pick a binary;
//   README_SCREENSHOT=docs/web-client.png also writes the README's picture)
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, openUser } from "./browser.mjs";
import { chatScenario } from "./chat.mjs";
import { startServer } from "./server.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "out");
mkdirSync(out, { recursive: true });

const shots = {
  /** The page in dark and light, at desktop and phone sizes. */
  async take(page, name, { readme = false } = {}) {
    const size = page.viewportSize();
    if (readme && process.env.README_SCREENSHOT) {
      await page.emulateMedia({ colorScheme: "dark" });
      await page.waitForTimeout(200);
      await page.screenshot({ path: process.env.README_SCREENSHOT });
    }
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(out, `${name}-${scheme}.png`) });
    }
    if (name === "channel" && size) {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(out, `${name}-phone-dark.png`) });
      await page.emulateMedia({ colorScheme: "light" });
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(out, `${name}-phone-light.png`) });
      await page.setViewportSize(size);
    }
    await page.emulateMedia({ colorScheme: "light" });
  },
};

let failed = 0;
let passed = 0;
const t = {
  async step(name, fn) {
    const started = Date.now();
    try {
      await fn();
      passed++;
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}\n     ${String(err).split("\n").join("\n     ")}`);
      throw err;
    }
  },
};

const server = await startServer();
const browser = await launch();
const people = [];
try {
  const ann = await openUser(browser, server.url);
  const ben = await openUser(browser, server.url);
  people.push(ann, ben);
  await chatScenario(t, ann, ben, shots);
  for (const [who, p] of [["ann", ann], ["ben", ben]]) {
    if (p.errors.length) {
      failed++;
      console.log(`FAIL no errors in ${who}'s page\n     ${p.errors.join("\n     ")}`);
    }
  }
} catch (err) {
  if (failed === 0) {
    failed++;
    console.log(`FAIL setup: ${err}`);
  }
  for (const [i, p] of people.entries()) {
    await p.page.screenshot({ path: join(out, `failure-${i}.png`) }).catch(() => undefined);
    if (p.errors.length) console.log(`errors in page ${i}:\n  ${p.errors.join("\n  ")}`);
  }
  console.log(`server log:\n${server.log()}`);
} finally {
  await browser.close();
  await server.stop();
}
console.log(`\n${passed} passed, ${failed} failed; screenshots in ${out}`);
process.exit(failed === 0 ? 0 : 1);
