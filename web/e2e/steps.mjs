// What a person does in the client, as Playwright steps.
import { expect } from "./expect.mjs";

export async function register(page, username, displayName) {
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Password").fill("password123");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("me")).toHaveText(displayName);
  await expect(page.locator('[role="status"][data-connection]')).toHaveCount(0);
}

export async function createGroup(page, name, member) {
  await page.getByRole("button", { name: "New conversation" }).click();
  await page.getByRole("tab", { name: "New group" }).click();
  await page.getByLabel("Group name").fill(name);
  await page.getByLabel("Add members").fill(member);
  await page.getByRole("list", { name: "People found" }).getByRole("button").first().click();
  await page.getByRole("button", { name: "Create group" }).click();
  await expect(page.getByTestId("channel-title")).toHaveText(name);
}

export async function startDm(page, who) {
  await page.getByRole("button", { name: "New conversation" }).click();
  await page.getByRole("tab", { name: "Direct message" }).click();
  await page.getByLabel("Find a person to message").fill(who);
  await page.getByRole("list", { name: "People found" }).getByRole("button").first().click();
}

export async function openChannel(page, name) {
  await page.locator(`button[data-channel="${name}"]`).click();
  await expect(page.getByTestId("channel-title")).toHaveText(name);
}

export function composer(page) {
  return page.locator("textarea[aria-label^='Message ']");
}

export async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press("Enter");
}

export function message(page, text) {
  return page.locator("article[data-message-id]").filter({ has: page.getByTestId("message-content").filter({ hasText: text }) });
}

/** How many confirmed messages have exactly this text. */
export async function countMessages(page, text) {
  const all = await page.getByTestId("message-content").allTextContents();
  return all.filter((t) => t.replace(/\(edited\)$/, "").trim() === text).length;
}
