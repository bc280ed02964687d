// A small retrying `expect` over Playwright locators (playwright-core has no test runner).
const TIMEOUT = 10_000;

async function until(check, describe) {
  const deadline = Date.now() + TIMEOUT;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last.ok) return;
    } catch (e) {
      last = { ok: false, got: String(e) };
    }
    if (Date.now() > deadline) throw new Error(`${describe}: got ${JSON.stringify(last.got)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function expect(locator) {
  return {
    toHaveText: (text) => until(async () => { const got = (await locator.first().textContent({ timeout: 500 }))?.trim(); return { ok: got === text, got }; }, `expected text ${JSON.stringify(text)}`),
    toContainText: (text) => until(async () => { const got = await locator.first().textContent({ timeout: 500 }); return { ok: !!got && got.includes(text), got }; }, `expected to contain ${JSON.stringify(text)}`),
    toHaveCount: (n) => until(async () => { const got = await locator.count(); return { ok: got === n, got }; }, `expected count ${n}`),
    toBeVisible: () => until(async () => ({ ok: await locator.first().isVisible(), got: "hidden" }), "expected visible"),
  };
}

/** Retries an async value until `ok(value)`. */
export async function eventually(fn, ok, describe) {
  await until(async () => { const got = await fn(); return { ok: ok(got), got }; }, describe);
}
