import assert from "node:assert/strict";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { createSuperuser, emailCount, emailTo, type ResetEmail } from "./harness.ts";
import type { Step, Suite } from "./run.ts";

const PASSWORD = "violet-harbour-lantern-42";
const ADMIN = { email: "ada@acme.example", first: "Ada", last: "Lovelace" };
const MEMBER = { email: "grace@acme.example", first: "Grace", last: "Hopper" };
const STAFF = { email: "ops@platform.example" };
const NEW_PASSWORD = "copper-meadow-compass-77";
const RESET_PASSWORD = "saffron-glacier-orbit-19";
const LAST_ADMIN = "This is the tenant's last ADMIN (inactive members do not count)";

/** A fresh browser profile (its own cookies), whose pages report anything the script policy blocked. */
async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const blocked: string[] = [];
  (page as Page & { cspViolations: string[] }).cspViolations = blocked;
  page.on("console", (message) => {
    if (process.env.E2E_DEBUG) process.stdout.write(`[browser] ${message.type()} ${message.text()}\n`);
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) blocked.push(message.text());
  });
  page.on("pageerror", (error) => blocked.push(`page error: ${error.message}`));
  return page;
}

/** Presses Tab until the element named `name` has the focus, as a keyboard user would. */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 40; presses += 1) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLInputElement | null;
      if (!element) return "";
      const label = element.labels?.[0]?.textContent ?? "";
      return (element.getAttribute("aria-label") ?? label ?? "") || (element.textContent ?? "");
    });
    if (focused.trim() === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name }).waitFor();

async function signIn(page: Page, base: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

let admin: Page;
let member: Page;
let staff: Page;

async function sql(suite: Suite, text: string, values: unknown[]): Promise<number> {
  const client = new pg.Client({ connectionString: suite.serverEnv.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

export const runbook: Step[] = [
  {
    name: "the server answers the console's pages with a strict policy and long-lived assets, leaving the API and its docs alone",
    async run({ server }) {
      const html = { accept: "text/html" };
      const page = await fetch(`${server.url}/members`, { headers: html });
      assert.equal(page.status, 200);
      assert.equal(page.headers.get("cache-control"), "no-cache");
      const policy = page.headers.get("content-security-policy") ?? "";
      assert.match(policy, /default-src 'self'/);
      assert.match(policy, /script-src 'self'(;|$)/);
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
      assert.ok(script);
      const asset = await fetch(`${server.url}${script}`);
      assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
      const docs = await fetch(`${server.url}/api/docs/`, { headers: html });
      assert.equal(docs.status, 200);
      assert.notEqual(docs.headers.get("content-security-policy"), policy);
      const missing = await fetch(`${server.url}/api/no-such-thing/`, { headers: html });
      assert.deepEqual(await missing.json(), { detail: "Not found." });
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    },
  },
  {
    name: "sign up shows the API's field errors next to their fields, then creates the tenant and signs its admin in",
    async run({ browser, server, check }) {
      admin = await newPage(browser);
      await admin.goto(`${server.url}/sign-up`);
      await check(admin, "sign-up");
      await admin.getByLabel("Email").fill("not-an-address");
      await admin.getByLabel("Password").fill("short");
      await admin.getByRole("button", { name: "Create tenant" }).click();
      const tenantName = admin.getByLabel("Tenant name");
      await assertDescribed(admin, "Tenant name", "This field may not be blank.");
      await assertDescribed(admin, "Email", "Enter a valid email address.");
      assert.equal(await tenantName.getAttribute("aria-invalid"), "true");
      await check(admin, "sign-up-errors");

      await tenantName.fill("Acme Robotics");
      await admin.getByLabel("First name").fill(ADMIN.first);
      await admin.getByLabel("Last name").fill(ADMIN.last);
      await admin.getByLabel("Email").fill(ADMIN.email);
      await admin.getByLabel("Password").fill(PASSWORD);
      await admin.getByRole("button", { name: "Create tenant" }).click();
      await heading(admin, "Members");
      await admin.getByRole("cell", { name: ADMIN.email, exact: true }).waitFor();
      await check(admin, "members");
    },
  },
  {
    name: "the admin invites a member; the email hook receives the accept link",
    async run({ server, outbox, check }) {
      await admin.getByRole("link", { name: "Invitations" }).click();
      await heading(admin, "Invitations");
      await admin.getByLabel("Email", { exact: true }).fill(MEMBER.email);
      await admin.getByLabel("Role", { exact: true }).selectOption("ANALYST");
      await admin.getByRole("button", { name: "Invite", exact: true }).click();
      await admin.getByText(`Invitation sent to ${MEMBER.email}.`).waitFor();
      const email = await emailTo(outbox, MEMBER.email);
      assert.equal(email.tenant.name, "Acme Robotics");
      assert.ok(email.acceptUrl.startsWith(`${server.url}/accept-invite`), email.acceptUrl);
      const row = admin.getByRole("row", { name: new RegExp(MEMBER.email) });
      await row.getByText("Pending").waitFor();
      await admin.reload();
      await admin
        .getByRole("row", { name: new RegExp(MEMBER.email) })
        .getByText("Sent")
        .waitFor();
      await check(admin, "invitations");
    },
  },
  {
    name: "accept pages: a link without a token and a revoked or unknown token each get a clear page",
    async run({ browser, server, check }) {
      member = await newPage(browser);
      await member.goto(`${server.url}/accept-invite`);
      await heading(member, "No invitation in this link");
      await check(member, "accept-missing");
      // The preview answers before anything is typed.
      await member.goto(`${server.url}/accept-invite?token=not-a-real-token`);
      await heading(member, "This invitation link does not work");
      await check(member, "accept-invalid");
    },
  },
  {
    name: "the invitee opens the emailed link in a second browser, meets the password policy inline, accepts and is signed in",
    async run({ server, outbox, check }) {
      const email = await emailTo(outbox, MEMBER.email);
      const token = new URL(email.acceptUrl.replace("#", "?")).searchParams.get("token");
      assert.ok(token);
      // Current emails link with `#token=` (never in a server log); the older `?token=` works as well.
      await member.goto(`${server.url}/accept-invite#token=${encodeURIComponent(token)}`);
      await heading(member, "Accept your invitation");
      const preview = member.getByRole("region", { name: "Your invitation" });
      for (const words of ["Acme Robotics", MEMBER.email, "Analyst", `${ADMIN.first} ${ADMIN.last}`, "UTC"]) {
        await preview.getByText(words).waitFor();
      }
      await check(member, "accept");
      await member.getByLabel("First name").fill(MEMBER.first);
      await member.getByLabel("Last name").fill(MEMBER.last);
      await member.getByLabel("Password").fill("password");
      await member.getByRole("button", { name: "Accept invitation" }).click();
      await assertDescribed(member, "Password", "This password is too common.");
      await check(member, "accept-weak-password");
      await member.getByLabel("Password").fill(PASSWORD);
      await member.getByRole("button", { name: "Accept invitation" }).click();
      await heading(member, "Members");
      assert.ok(!member.url().includes("token"), member.url());
      await member.getByRole("cell", { name: MEMBER.email, exact: true }).waitFor();
      assert.equal(await member.getByRole("link", { name: "Invitations" }).count(), 0);
      assert.equal(await member.getByRole("button", { name: `Roles of ${ADMIN.email}` }).count(), 0);

      await member.goto(`${server.url}/accept-invite#token=${encodeURIComponent(token)}`);
      await heading(member, "This invitation was already accepted");
      await check(member, "accept-accepted");
    },
  },
  {
    name: "the new member signs out, then signs in with the keyboard alone; admin pages say not allowed",
    async run({ server, check }) {
      await member.goto(`${server.url}/account`);
      await heading(member, "Account");
      await check(member, "account");
      await member.getByRole("button", { name: "Sign out" }).click();
      await heading(member, "Sign in");
      await check(member, "sign-in");
      await tabTo(member, "Email");
      await member.keyboard.type(MEMBER.email);
      await member.keyboard.press("Tab");
      await member.keyboard.type(PASSWORD);
      await member.keyboard.press("Enter");
      await heading(member, "Members");
      await member.goto(`${server.url}/invitations`);
      await heading(member, "Not allowed");
      await check(member, "forbidden");
      await member.goto(`${server.url}/no-such-page`);
      await heading(member, "Page not found");
      await check(member, "not-found");
    },
  },
  {
    name: "the admin grants and revokes a role with the keyboard, and is refused revoking the last ADMIN in the API's words",
    async run({ check }) {
      await admin.getByRole("link", { name: "Members" }).click();
      await heading(admin, "Members");
      await admin.getByRole("button", { name: `Roles of ${MEMBER.email}` }).focus();
      await admin.keyboard.press("Enter");
      const dialog = admin.getByRole("dialog", { name: `Roles of ${MEMBER.first} ${MEMBER.last}` });
      await dialog.getByRole("button", { name: "Revoke Analyst" }).waitFor();
      await check(admin, "member-roles");
      await tabTo(admin, "Role");
      await admin.keyboard.press("ArrowDown");
      const chosen = await dialog.getByLabel("Role").inputValue();
      await tabTo(admin, "Grant role");
      await admin.keyboard.press("Enter");
      const granted = chosen === "ADMIN" ? "Admin" : "Viewer";
      await dialog.getByText(`${granted} granted.`).waitFor();
      await admin
        .getByRole("row", { name: new RegExp(MEMBER.email) })
        .getByText(granted)
        .waitFor();
      await tabTo(admin, `Revoke ${granted}`);
      await admin.keyboard.press("Enter");
      await dialog.getByText(`${granted} revoked.`).waitFor();
      await admin.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });

      await admin.getByRole("button", { name: `Roles of ${ADMIN.email}` }).click();
      const own = admin.getByRole("dialog", { name: `Roles of ${ADMIN.first} ${ADMIN.last}` });
      await own.getByRole("button", { name: "Revoke Admin" }).click();
      await own.getByText("This is the tenant's last ADMIN assignment").waitFor();
      await own.getByRole("button", { name: "Close" }).click();
      await own.waitFor({ state: "hidden" });
      // The README's picture of the console (docs/console-members.png), when screenshots are asked for.
      const shots = process.env.CONSOLE_SHOTS;
      if (shots) {
        await admin.screenshot({ path: `${shots}/members-readme.png`, clip: { x: 0, y: 0, width: 1280, height: 400 } });
      }
    },
  },
  {
    name: "the admin deactivates the member, whose open page lands on sign in; the last ADMIN is refused in the API's words",
    async run({ server, check }) {
      await member.goto(`${server.url}/members`);
      await heading(member, "Members");
      await admin.getByRole("link", { name: "Members" }).click();
      await heading(admin, "Members");
      // With the keyboard: the dialog opens on Cancel, the safe choice; Tab reaches the action.
      await admin.getByRole("button", { name: `Deactivate ${MEMBER.email}` }).focus();
      await admin.keyboard.press("Enter");
      const confirm = admin.getByRole("dialog", { name: `Deactivate ${MEMBER.first} ${MEMBER.last}?` });
      await confirm.waitFor();
      assert.equal(await admin.evaluate(() => document.activeElement?.textContent), "Cancel");
      await check(admin, "members-deactivate-confirm");
      await tabTo(admin, "Deactivate member");
      await admin.keyboard.press("Enter");
      await admin.getByText(`${MEMBER.first} ${MEMBER.last} is deactivated and signed out everywhere.`).waitFor();
      await admin
        .getByRole("row", { name: new RegExp(MEMBER.email) })
        .getByText("Inactive")
        .waitFor();

      // The member's open page: the next thing they do meets the ended session.
      await member.getByRole("link", { name: "Account" }).click();
      await heading(member, "Sign in");
      await member.getByText("Your session has ended").waitFor();
      await member.getByLabel("Email").fill(MEMBER.email);
      await member.getByLabel("Password").fill(PASSWORD);
      await member.getByRole("button", { name: "Sign in" }).click();
      await member.getByText("Unable to log in with provided credentials.").waitFor();

      for (const action of ["Deactivate", "Remove"]) {
        await admin.getByRole("button", { name: `${action} ${ADMIN.email}` }).click();
        await admin
          .getByRole("dialog")
          .getByRole("button", { name: `${action} member` })
          .click();
        await admin.getByRole("alert").getByText(LAST_ADMIN).waitFor();
        await admin.getByRole("dialog").waitFor({ state: "hidden" });
      }

      await admin.getByLabel("Status").selectOption("false");
      await admin.getByRole("cell", { name: ADMIN.email, exact: true }).waitFor({ state: "detached" });
      await check(admin, "members-inactive");
      await admin.getByRole("button", { name: `Activate ${MEMBER.email}` }).click();
      await admin.getByText(`${MEMBER.first} ${MEMBER.last} is active again and may sign in.`).waitFor();
      await admin.getByText("No inactive members.").waitFor();
      await admin.getByLabel("Status").selectOption("");
      await signIn(member, server.url, MEMBER.email);
      await heading(member, "Members");
    },
  },
  {
    name: "the member edits their name, ends their other sessions, and changes the password with the policy inline",
    async run({ browser, server, check }) {
      const elsewhere = [await newPage(browser), await newPage(browser)];
      for (const page of elsewhere) {
        await signIn(page, server.url, MEMBER.email);
        await heading(page, "Members");
      }
      await member.getByRole("link", { name: "Account" }).click();
      await heading(member, "Account");
      const sessions = member.getByRole("list", { name: "Your sessions" });
      await sessions
        .getByRole("button", { name: /^End session/ })
        .nth(1)
        .waitFor();
      assert.equal(await sessions.getByText("This browser").count(), 1);
      assert.equal(await sessions.getByRole("listitem").count(), 3);
      assert.match(
        (await sessions.getByRole("listitem").first().textContent()) ?? "",
        /^Headless Chrome on LinuxThis browser/,
      );
      await check(member, "account-sessions");

      await member.getByLabel("First name").fill("Amazing Grace");
      await member.getByRole("button", { name: "Save name" }).click();
      await member.getByText("Your name is saved.").waitFor();
      await member.getByRole("region", { name: "Profile" }).getByText("Amazing Grace Hopper").waitFor();

      await sessions
        .getByRole("button", { name: /^End session/ })
        .first()
        .click();
      await member.getByText("That session has ended").waitFor();
      assert.equal(await sessions.getByRole("button", { name: /^End session/ }).count(), 1);
      await member.getByRole("button", { name: "End all other sessions" }).click();
      await member.getByText("Every other session has ended").waitFor();
      assert.equal(await sessions.getByRole("listitem").count(), 1);
      assert.ok(await member.getByRole("button", { name: "End all other sessions" }).isDisabled());
      for (const page of elsewhere) {
        await page.getByRole("link", { name: "Account" }).click();
        await heading(page, "Sign in");
      }

      await member.getByLabel("Current password").fill("not-my-password");
      await member.getByLabel("New password").fill(NEW_PASSWORD);
      await member.getByRole("button", { name: "Change password" }).click();
      await assertDescribed(member, "Current password", "Your old password was entered incorrectly.");
      await member.getByLabel("Current password").fill(PASSWORD);
      await member.getByLabel("New password").fill("password");
      await member.getByRole("button", { name: "Change password" }).click();
      await assertDescribed(member, "New password", "This password is too common.");
      await check(member, "account-password-errors");
      await member.getByLabel("New password").fill(NEW_PASSWORD);
      await member.getByRole("button", { name: "Change password" }).click();
      await member.getByText("Password changed.").waitFor();
      const later = elsewhere[0] as Page;
      await signIn(later, server.url, MEMBER.email, NEW_PASSWORD);
      await heading(later, "Members");
      for (const page of elsewhere) await page.context().close();
    },
  },
  {
    name: "the member resets a forgotten password from the emailed link in a fresh browser and signs in with it; a used link says so",
    async run({ browser, server, outbox, check }) {
      const asker = await newPage(browser);
      await asker.goto(`${server.url}/sign-in`);
      await asker.getByRole("link", { name: "Forgot your password?" }).click();
      await heading(asker, "Reset your password");
      await check(asker, "forgot-password");
      await asker.getByLabel("Email").fill("not-an-address");
      await asker.getByRole("button", { name: "Send reset link" }).click();
      await assertDescribed(asker, "Email", "Enter a valid email address.");
      // An address with no account gets the very same answer.
      await asker.getByLabel("Email").fill("nobody@acme.example");
      await asker.getByRole("button", { name: "Send reset link" }).click();
      await heading(asker, "Check your email");
      const unknown = await asker.getByRole("main").textContent();
      await asker.getByRole("button", { name: "ask for another link" }).click();
      await heading(asker, "Reset your password");
      const before = emailCount(outbox);
      await asker.getByLabel("Email").fill(MEMBER.email);
      await asker.getByRole("button", { name: "Send reset link" }).click();
      await heading(asker, "Check your email");
      assert.equal(await asker.getByRole("main").textContent(), unknown);
      await check(asker, "forgot-password-sent");
      await asker.context().close();

      const email = await emailTo<ResetEmail>(outbox, MEMBER.email, before);
      assert.equal(email.tenant?.name, "Acme Robotics");
      assert.ok(email.resetUrl.startsWith(`${server.url}/reset-password#token=`), email.resetUrl);
      const resetter = await newPage(browser);
      await resetter.goto(email.resetUrl);
      await heading(resetter, "Choose a new password");
      assert.equal(resetter.url(), `${server.url}/reset-password`);
      await check(resetter, "reset-password");
      await resetter.getByLabel("New password").fill("password");
      await resetter.getByRole("button", { name: "Set new password" }).click();
      await assertDescribed(resetter, "New password", "This password is too common.");
      await check(resetter, "reset-password-errors");
      await resetter.getByLabel("New password").fill(RESET_PASSWORD);
      await resetter.keyboard.press("Enter");
      await heading(resetter, "Password changed");
      await check(resetter, "reset-password-done");
      await resetter.getByRole("link", { name: "Sign in" }).click();
      await heading(resetter, "Sign in");
      await resetter.getByLabel("Email").fill(MEMBER.email);
      await resetter.getByLabel("Password").fill(RESET_PASSWORD);
      await resetter.getByRole("button", { name: "Sign in" }).click();
      await heading(resetter, "Members");
      // The member's other open page was signed out by the reset.
      await member.getByRole("link", { name: "Members" }).click();
      await heading(member, "Sign in");

      const again = await newPage(browser);
      await again.goto(email.resetUrl);
      await again.getByLabel("New password").fill("another-fine-passphrase-3");
      await again.getByRole("button", { name: "Set new password" }).click();
      await heading(again, "This reset link does not work");
      await check(again, "reset-password-used");
      await again.getByRole("link", { name: "Ask for a new link" }).click();
      await heading(again, "Reset your password");
      await again.goto(`${server.url}/reset-password`);
      await heading(again, "No reset link here");
      for (const page of [resetter, again]) await page.context().close();
    },
  },
  {
    name: "the admin invites several addresses at once and reads a result per address; one joins and is removed",
    async run({ browser, outbox, check }) {
      await admin.getByRole("link", { name: "Invitations" }).click();
      await heading(admin, "Invitations");
      const bulk = admin.getByRole("region", { name: "Invite several people" });
      await bulk.getByRole("button", { name: "Invite all" }).click();
      await assertDescribed(admin, "Email addresses", "This list may not be empty.");
      await bulk
        .getByLabel("Email addresses")
        .fill(`kim@acme.example, lee@acme.example\nnot-an-address\n${MEMBER.email}\nkim@acme.example`);
      await bulk.getByLabel("Role for all").selectOption("VIEWER");
      await bulk.getByRole("button", { name: "Invite all" }).click();
      await bulk.getByText("2 invited, 3 not invited").waitFor();
      // Only what was not invited stays, once each: kim@ was invited by its first row.
      const results = bulk.getByRole("region", { name: "Bulk invite results" });
      const result = (email: string) => results.getByRole("row", { name: new RegExp(email) });
      await result("lee@acme.example").getByText("Invited").waitFor();
      await result("not-an-address").getByText("Enter a valid email address.").waitFor();
      await result(MEMBER.email).getByText("A user with this email already exists in this tenant.").waitFor();
      await results.getByText("This email appears more than once in this request.").waitFor();
      assert.equal(await bulk.getByLabel("Email addresses").inputValue(), `not-an-address\n${MEMBER.email}`);
      await admin
        .getByRole("table", { name: "Invitations" })
        .getByRole("row", { name: /lee@acme\.example/ })
        .getByText("Viewer")
        .waitFor();
      await check(admin, "invitations-bulk");

      const joiner = await newPage(browser);
      await joiner.goto((await emailTo(outbox, "lee@acme.example")).acceptUrl);
      await joiner.getByRole("region", { name: "Your invitation" }).getByText("Viewer").waitFor();
      await joiner.getByLabel("Password").fill(PASSWORD);
      await joiner.getByRole("button", { name: "Accept invitation" }).click();
      await heading(joiner, "Members");
      await admin.getByRole("link", { name: "Members" }).click();
      await admin.getByRole("button", { name: "Remove lee@acme.example" }).click();
      const confirm = admin.getByRole("dialog", { name: "Remove lee@acme.example?" });
      await confirm.getByText("this cannot be undone").waitFor();
      await check(admin, "members-remove-confirm");
      await confirm.getByRole("button", { name: "Remove member" }).click();
      await admin.getByText("lee@acme.example was removed from the tenant.").waitFor();
      await admin.getByRole("cell", { name: "lee@acme.example", exact: true }).waitFor({ state: "detached" });
      // The removed member's open page meets its ended session.
      await joiner.getByRole("link", { name: "Account" }).click();
      await heading(joiner, "Sign in");
      await joiner.context().close();
    },
  },
  {
    name: "the admin reads the audit log, filtered by action and actor",
    async run({ check }) {
      await admin.getByRole("link", { name: "Audit log" }).click();
      await heading(admin, "Audit log");
      await admin.getByRole("cell", { name: "Invitation accepted", exact: true }).first().waitFor();
      for (const action of ["Member deactivated", "Member activated", "Member removed", "Password changed"]) {
        await admin.getByRole("cell", { name: action, exact: true }).first().waitFor();
      }
      await admin.getByLabel("Action").selectOption("role.granted");
      await admin.getByLabel("Actor").fill(ADMIN.email);
      await admin.getByRole("button", { name: "Filter" }).click();
      await admin
        .getByRole("cell", { name: "Invitation accepted", exact: true })
        .first()
        .waitFor({ state: "detached" });
      await admin.getByRole("cell", { name: "Role granted", exact: true }).first().waitFor();
      await check(admin, "audit");
    },
  },
  {
    name: "a superuser extends an expired invitation, then purges with a dry-run count first",
    async run({ server, serverEnv, outbox, check, ...suite }) {
      // An invitation that expired and one revoked, from the admin's pages and the clock's passing.
      await admin.getByRole("link", { name: "Invitations" }).click();
      const before = emailCount(outbox);
      for (const address of ["late@acme.example", "gone@acme.example"]) {
        await admin.getByLabel("Email", { exact: true }).fill(address);
        await admin.getByRole("button", { name: "Invite", exact: true }).click();
        await admin.getByText(`Invitation sent to ${address}.`).waitFor();
      }
      await emailTo(outbox, "gone@acme.example", before);
      await admin.getByRole("button", { name: "Revoke invitation to gone@acme.example" }).click();
      await check(admin, "invitations-revoke-confirm");
      await admin.getByRole("dialog").getByRole("button", { name: "Revoke invitation" }).click();
      await admin.getByText("Invitation to gone@acme.example revoked.").waitFor();
      const aged = await sql(
        { server, serverEnv, outbox, check, ...suite },
        "update invitations set expires_at = now() - interval '3 days' where email = $1",
        ["late@acme.example"],
      );
      assert.equal(aged, 1);
      const expired = await newPage(suite.browser);
      await expired.goto((await emailTo(outbox, "late@acme.example")).acceptUrl);
      await heading(expired, "This invitation has expired");
      await check(expired, "accept-expired");
      await expired.context().close();

      createSuperuser(serverEnv, STAFF.email, PASSWORD);
      staff = await newPage(suite.browser);
      await signIn(staff, server.url, STAFF.email);
      await heading(staff, "Tenants");
      await staff.getByLabel("Search tenants").fill("acme");
      await staff.getByRole("link", { name: "Acme Robotics" }).waitFor();
      await check(staff, "platform-tenants");

      await staff.getByRole("link", { name: "Invitations" }).click();
      await heading(staff, "Invitations, all tenants");
      await staff.getByLabel("Status").selectOption("expired");
      const late = staff.getByRole("row", { name: /late@acme\.example/ });
      await late.getByText("Acme Robotics").waitFor();
      await check(staff, "platform-invitations");
      await staff.getByRole("button", { name: "Extend invitation to late@acme.example by 7 days" }).click();
      await staff.getByText("Invitation to late@acme.example now expires").waitFor();
      await staff.getByText("No expired invitations.").waitFor();

      await staff.getByLabel("Older than (days)").fill("0");
      await staff.getByRole("button", { name: "Count (dry run)" }).click();
      await staff.getByText("1 invitation expired or revoked before").waitFor();
      await check(staff, "platform-purge-count");
      await staff.getByRole("button", { name: "Purge 1 invitation" }).click();
      await staff.getByRole("dialog").getByRole("button", { name: "Delete for good" }).click();
      await staff.getByText("Purged 1 invitation.").waitFor();
      await staff.getByLabel("Status").selectOption("revoked");
      await staff.getByText("No revoked invitations.").waitFor();
    },
  },
  {
    name: "platform staff see any tenant's members, invitations and roles, every tenant's audit, and the webhooks",
    async run({ check }) {
      await staff.getByRole("link", { name: "Tenants" }).click();
      await staff.getByRole("link", { name: "Acme Robotics" }).click();
      await heading(staff, "Tenant Acme Robotics");
      await staff.getByRole("cell", { name: MEMBER.email, exact: true }).first().waitFor();
      await staff
        .getByRole("table", { name: "Role assignments" })
        .getByRole("cell", { name: "Analyst", exact: true })
        .waitFor();
      await check(staff, "platform-tenant");
      await staff.getByRole("link", { name: "Audit log" }).click();
      await heading(staff, "Audit log, all tenants");
      await staff.getByLabel("Action").selectOption("invitation.purged");
      await staff.getByRole("button", { name: "Filter" }).click();
      await staff.getByRole("cell", { name: "Invitations purged", exact: true }).first().waitFor();
      await check(staff, "platform-audit");
      await staff.getByRole("link", { name: "Webhooks" }).click();
      await heading(staff, "Webhooks");
      await staff.getByText("No endpoints yet.").waitFor();
      await staff.getByLabel("URL").fill("not a url");
      await staff.getByRole("button", { name: "Add endpoint" }).click();
      await assertDescribed(staff, "URL", "Enter a valid URL.");
      await check(staff, "platform-webhooks");
    },
  },
  {
    name: "an email with accounts in two tenants is asked for the tenant, in the API's words, and nothing more",
    async run({ browser, server, check }) {
      const page = await newPage(browser);
      await page.goto(`${server.url}/sign-up`);
      await page.getByLabel("Tenant name").fill("Beta Labs");
      await page.getByLabel("Email").fill(ADMIN.email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create tenant" }).click();
      await heading(page, "Members");
      await page.getByRole("button", { name: "Sign out" }).click();
      await heading(page, "Sign in");
      assert.equal(await page.getByLabel("Tenant").count(), 0);
      await page.getByLabel("Email").fill(ADMIN.email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await assertDescribed(page, "Tenant", "This email has an account in more than one tenant.");
      await check(page, "sign-in-tenant");
      await page.getByLabel("Tenant", { exact: true }).fill("beta-labs");
      await page.getByRole("button", { name: "Sign in" }).click();
      await heading(page, "Members");
      await page.getByRole("link", { name: "Account" }).click();
      await page.getByText("Beta Labs").waitFor();
    },
  },
];

/** The field labelled `label` is described by (tied to) an error with these words. */
async function assertDescribed(page: Page, label: string, words: string): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await page.getByText(words).first().waitFor();
  const describedBy = await field.getAttribute("aria-describedby");
  assert.ok(describedBy, `${label} has no description`);
  const text = await page.locator(`[id="${describedBy}"]`).textContent();
  assert.ok(text?.includes(words), `${label} is described by "${text}", not "${words}"`);
}
