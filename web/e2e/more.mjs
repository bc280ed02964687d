// More of the client: replies, threads, mute, the member list and block, and the
// README screenshot.
import { eventually, expect } from "./expect.mjs";
import { composer, countMessages, message, openChannel, send } from "./steps.mjs";

export async function moreScenario(t, ann, ben, shots) {
  const a = ann.page;
  const b = ben.page;

  await t.step("a file dropped on the conversation is attached and sent", async () => {
    const files = await b.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["bring a jacket\n"], "notes.txt", { type: "text/plain" }));
      return dt;
    });
    const log = b.getByRole("log", { name: "Messages in lunch" });
    await log.dispatchEvent("dragover", { dataTransfer: files });
    await expect(b.getByText("Drop files to send them in lunch")).toHaveCount(1);
    await log.dispatchEvent("drop", { dataTransfer: files });
    await expect(b.getByRole("list", { name: "Attachments" })).toContainText("notes.txt");
    await eventually(() => b.getByRole("button", { name: "Send message" }).isEnabled(), Boolean, "upload finished");
    await composer(b).press("Enter");
    await expect(a.getByRole("link", { name: /notes\.txt/ })).toHaveCount(1);
  });

  await t.step("ben replies to a message; ann sees the quote", async () => {
    const m = message(b, "see you there");
    await m.hover();
    await m.getByRole("button", { name: "Reply" }).click();
    await send(b, "on my way 🚲");
    await expect(message(a, "on my way 🚲").getByRole("button", { name: "Replying to a message" })).toContainText("see you there");
  });

  await t.step("ann starts a thread from a message and writes in it", async () => {
    const m = message(a, "pizza or sushi?");
    await m.hover();
    await m.getByRole("button", { name: "Start a thread" }).click();
    const thread = a.getByRole("region", { name: "Thread" });
    await expect(thread.getByTestId("channel-title")).toContainText("pizza or sushi?");
    await thread.locator("textarea").fill("sushi place on 5th?");
    await thread.locator("textarea").press("Enter");
    await expect(thread.getByTestId("message-content")).toContainText("sushi place on 5th?");
    await thread.getByRole("button", { name: "Close thread" }).click();
  });

  await t.step("ben mutes the DM; its badge turns muted", async () => {
    await openChannel(b, "Ann Archer");
    await b.getByRole("button", { name: "Mute channel" }).click();
    await expect(b.locator('button[data-channel="Ann Archer"][aria-label$="muted"]')).toHaveCount(1);
    await b.getByRole("button", { name: "Unmute channel" }).click();
    await openChannel(b, "lunch");
  });

  await t.step("the member list shows both with presence; block and unblock", async () => {
    await a.getByRole("button", { name: "Members" }).click();
    const panel = a.getByRole("complementary", { name: "Members" });
    await expect(panel.getByRole("listitem")).toHaveCount(2);
    await expect(panel.locator('[data-presence="online"]')).toHaveCount(2);
    await panel.getByRole("button", { name: /Ben Baker/ }).click();
    await panel.getByRole("button", { name: "Block" }).click();
    await expect(message(a, "on my way 🚲")).toHaveCount(0);
    await panel.getByRole("button", { name: "Unblock" }).click();
    await expect(message(a, "on my way 🚲")).toHaveCount(1);
    await panel.getByRole("button", { name: /Ben Baker/ }).click();
  });

  await t.step("ben joins a public channel and scrolls back through its history", async () => {
    await a.getByRole("button", { name: "New conversation" }).click();
    await a.getByRole("tab", { name: "New group" }).click();
    await a.getByLabel("Group name").fill("general");
    await a.getByLabel("Public (anyone can join)").check();
    await a.getByRole("button", { name: "Create group" }).click();
    await expect(a.getByTestId("channel-title")).toHaveText("general");
    for (let n = 1; n <= 70; n++) await send(a, `history ${n}`);
    await expect(message(a, "history 70")).toHaveCount(1);
    await b.getByRole("button", { name: "New conversation" }).click();
    await b.getByRole("tab", { name: "Browse channels" }).click();
    await b.getByRole("button", { name: "Join general" }).click();
    await expect(b.getByTestId("channel-title")).toHaveText("general");
    await expect(message(b, "history 70")).toHaveCount(1);
    const log = b.getByRole("log", { name: "Messages in general" });
    for (let i = 0; i < 20 && (await countMessages(b, "history 1")) === 0; i++) {
      await log.evaluate((el) => el.scrollTo(0, 0));
      await b.waitForTimeout(250);
    }
    await eventually(() => countMessages(b, "history 1"), (c) => c === 1, "the oldest message loaded once");
    await openChannel(a, "lunch");
    await openChannel(b, "lunch");
  });

  await t.step("keyboard: arrows move between messages and reveal their actions", async () => {
    await a.getByRole("log", { name: "Messages in lunch" }).focus();
    const focused = () => a.evaluate(() => document.activeElement?.closest("article")?.textContent ?? "");
    await a.keyboard.press("ArrowUp");
    if (!(await focused()).includes("on my way")) throw new Error(`focused ${JSON.stringify(await focused())}`);
    await a.keyboard.press("ArrowUp");
    await a.keyboard.press("ArrowUp");
    if (!(await focused()).includes("see you there")) throw new Error(`focused ${JSON.stringify(await focused())}`);
    await a.keyboard.press("ArrowDown");
    if (!(await focused()).includes("notes.txt")) throw new Error(`focused ${JSON.stringify(await focused())}`);
    await expect(a.locator("article:focus").getByRole("toolbar", { name: "Message actions" })).toBeVisible();
    await a.keyboard.press("Escape");
    const box = await a.evaluate(() => document.activeElement?.getAttribute("aria-label"));
    if (box !== "Message #lunch") throw new Error(`Escape focused ${box}`);
  });

  // The server publishes one TYPING_STARTED per user per channel per 3 s.
  await b.waitForTimeout(3_100);
  await composer(b).pressSequentially("see", { delay: 20 });
  await expect(a.getByTestId("typing")).toContainText("Ben Baker is typing");
  await shots.take(a, "members", { readme: true });
  await composer(b).fill("");
  await a.getByRole("button", { name: "Close members" }).click();
}
