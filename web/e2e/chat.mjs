// The end-to-end scenario: two people in two browser contexts use every live feature,
// then one drops off the network and comes back without losing or doubling anything.
import { eventually, expect } from "./expect.mjs";
import { gradientPng } from "./png.mjs";
import { moreScenario } from "./more.mjs";
import { composer, countMessages, createGroup, message, openChannel, register, send, startDm } from "./steps.mjs";

export async function chatScenario(t, ann, ben, shots) {
  const a = ann.page;
  const b = ben.page;
  await shots.take(a, "login");

  await t.step("two people register", async () => {
    await register(a, "ann", "Ann Archer");
    await register(b, "ben", "Ben Baker");
  });

  await t.step("ann creates a group with ben; it appears for ben live", async () => {
    await createGroup(a, "lunch", "ben");
    await openChannel(b, "lunch");
  });

  await t.step("typing is shown to the other member", async () => {
    await composer(a).pressSequentially("piz", { delay: 30 });
    await expect(b.getByTestId("typing")).toContainText("Ann Archer is typing");
  });

  await t.step("messages arrive in real time both ways", async () => {
    await send(a, "pizza?");
    await expect(message(b, "pizza?")).toHaveCount(1);
    await expect(b.getByTestId("typing")).toHaveText("");
    await send(b, "yes, at noon!");
    await expect(message(a, "yes, at noon!")).toHaveCount(1);
  });

  await t.step("ben reacts with the emoji picker; ann sees the count", async () => {
    const m = message(b, "pizza?");
    await m.hover();
    await m.getByRole("button", { name: "Add reaction" }).first().click();
    const emoji = b.locator("emoji-picker").locator("button.emoji[role=menuitem]").first();
    await emoji.click({ timeout: 15_000 });
    await expect(message(a, "pizza?").getByTestId("reaction")).toContainText("1");
    await expect(message(b, "pizza?").getByTestId("reaction")).toContainText("1");
  });

  await t.step("ann edits; ben sees the new text, 'edited' and the history", async () => {
    const m = message(a, "pizza?");
    await m.hover();
    await m.getByRole("button", { name: "Edit message" }).click();
    const editor = a.getByLabel("Edit message");
    await editor.fill("pizza or sushi?");
    await editor.press("Enter");
    await expect(message(b, "pizza or sushi?")).toHaveCount(1);
    await message(b, "pizza or sushi?").getByRole("button", { name: /edited/ }).click();
    const history = b.getByRole("dialog", { name: "Edit history" });
    await expect(history).toContainText("pizza?");
    await history.getByRole("button", { name: "Close" }).click();
  });

  await t.step("ann deletes a message; it disappears for ben", async () => {
    await send(a, "oops, wrong chat");
    await expect(message(b, "oops, wrong chat")).toHaveCount(1);
    const m = message(a, "oops, wrong chat");
    await m.hover();
    await m.getByRole("button", { name: "Delete message" }).click();
    await expect(message(b, "oops, wrong chat")).toHaveCount(0);
    await expect(message(a, "oops, wrong chat")).toHaveCount(0);
  });

  await t.step("ben uploads an image; both see its thumbnail", async () => {
    await b.getByTestId("file-input").setInputFiles({ name: "menu.png", mimeType: "image/png", buffer: gradientPng() });
    await expect(b.getByRole("list", { name: "Attachments" })).toContainText("menu.png");
    await eventually(() => b.getByRole("button", { name: "Send message" }).isEnabled(), Boolean, "upload finished");
    await composer(b).fill("today's menu");
    await composer(b).press("Enter");
    for (const page of [a, b]) {
      const img = message(page, "today's menu").getByTestId("thumbnail");
      await expect(img).toHaveCount(1);
      await eventually(() => img.evaluate((el) => el.complete && el.naturalWidth), (w) => w > 0, "thumbnail loaded");
    }
  });

  await t.step("read receipts: ann sees that ben read her message", async () => {
    await send(a, "see you there");
    await expect(message(b, "see you there")).toHaveCount(1);
    await expect(message(a, "see you there").getByTestId("receipts")).toHaveCount(1);
  });

  await t.step("search with a filter finds the edited message", async () => {
    await a.getByRole("button", { name: "Search messages" }).click();
    await a.getByLabel("Search words").fill("sushi");
    await a.getByRole("button", { name: "Search", exact: true }).click();
    await expect(a.getByTestId("search-result")).toHaveCount(1);
    await expect(a.getByTestId("search-result")).toContainText("pizza or sushi?");
    await shots.take(a, "search");
    await a.getByRole("button", { name: "Close search" }).click();
  });

  await t.step("a DM from user search reaches the other person", async () => {
    await startDm(b, "ann");
    await expect(b.getByTestId("channel-title")).toHaveText("Ann Archer");
    await send(b, "psst, bring cash");
    await expect(a.locator('button[data-channel="Ben Baker"]')).toHaveCount(1);
    await expect(a.locator('button[data-channel="Ben Baker"]').getByTestId("unread")).toHaveText("1");
    await openChannel(a, "Ben Baker");
    await expect(message(a, "psst, bring cash")).toHaveCount(1);
    await openChannel(a, "lunch");
    await openChannel(b, "lunch");
  });

  await shots.take(a, "channel");
  await shots.take(b, "channel-ben");
  await moreScenario(t, ann, ben, shots);

  await t.step("ben drops off the network and comes back: nothing lost or doubled", async () => {
    await ben.context.setOffline(true);
    await b.evaluate(() => window.__layer4.drop());
    await expect(b.locator('[data-connection="reconnecting"]')).toHaveCount(1);
    await shots.take(b, "reconnecting");
    for (const n of [1, 2, 3]) await send(a, `while away ${n}`);
    await openChannel(a, "general");
    for (const n of [1, 2]) await send(a, `general news ${n}`);
    await openChannel(a, "lunch");
    await send(b, "written offline");
    await expect(b.locator('[data-pending="sending"]')).toHaveCount(1);
    await ben.context.setOffline(false);
    await expect(b.locator("[data-connection]")).toHaveCount(0);
    for (const n of [1, 2, 3]) await eventually(() => countMessages(b, `while away ${n}`), (c) => c === 1, `ben sees "while away ${n}" once`);
    await eventually(() => countMessages(a, "written offline"), (c) => c === 1, "ann gets ben's offline message once");
    await expect(b.locator("[data-pending]")).toHaveCount(0);
    await eventually(() => countMessages(b, "written offline"), (c) => c === 1, "ben's message confirmed once");
    // Replayed messages in another channel count once as unread, and opening it shows
    // where the new ones start.
    await expect(b.locator('button[data-channel="general"]').getByTestId("unread")).toHaveText("2");
    await openChannel(b, "general");
    await expect(b.getByRole("separator", { name: "New messages" })).toHaveCount(1);
    await eventually(() => countMessages(b, "general news 1"), (c) => c === 1, "ben sees the news once");
    await openChannel(b, "lunch");
  });

  await t.step("a long absence (beyond the replay buffer) is reloaded through resync", async () => {
    await ben.context.setOffline(true);
    await b.evaluate(() => window.__layer4.drop());
    for (let n = 1; n <= 20; n++) await send(a, `long gap ${n}`);
    await expect(message(a, "long gap 20")).toHaveCount(1);
    await ben.context.setOffline(false);
    await expect(b.locator("[data-connection]")).toHaveCount(0);
    await eventually(() => b.evaluate(() => window.__layer4.resyncs()), (n) => n > 0, "ben's client was told to resync");
    for (let n = 1; n <= 20; n++) await eventually(() => countMessages(b, `long gap ${n}`), (c) => c === 1, `ben sees "long gap ${n}" once`);
  });

  await t.step("a second drop right after sending resends with the same nonce, stored once", async () => {
    await composer(b).fill("sent as the line dies");
    await composer(b).press("Enter");
    await b.evaluate(() => window.__layer4.drop());
    await expect(b.locator("[data-connection]")).toHaveCount(0);
    await eventually(() => countMessages(a, "sent as the line dies"), (c) => c === 1, "ann sees it once");
    await b.waitForTimeout(500);
    await eventually(() => countMessages(b, "sent as the line dies"), (c) => c === 1, "ben sees it once");
    await eventually(() => countMessages(a, "sent as the line dies"), (c) => c === 1, "still once for ann");
  });

  await t.step("after a reload the history is the same, in order", async () => {
    await b.reload();
    await openChannel(b, "lunch");
    await expect(message(b, "sent as the line dies")).toHaveCount(1);
    const texts = (await b.getByTestId("message-content").allTextContents()).map((s) => s.replace(/\(edited\)$/, "").trim());
    const order = ["while away 1", "while away 2", "while away 3", "written offline", "long gap 1", "long gap 20", "sent as the line dies"];
    const positions = order.map((s) => texts.indexOf(s));
    if (positions.some((p) => p < 0) || positions.some((p, i) => i > 0 && p < (positions[i - 1] ?? 0))) {
      throw new Error(`history out of order or incomplete: ${JSON.stringify(texts)}`);
    }
  });
}
