// @vitest-environment jsdom
// The Account page: a shopper's own name, email and password, and Sign out everywhere, against a fake Users service.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { createQueryClient } from "../api/queries";
import { clearSession, getSession, saveSession } from "../api/session";
import { description, emojiName, expectHeldExplanation, fieldProblem, json, pressRefusedAndHeld, renderAt, tooManyRequests, typeInto } from "../test/app";

const shopper = { id: 2, name: "Bob", email: "bob@example.com", role: "user" as const, is_active: true, created_at: "2026-01-01T00:00:00Z" };
const problem = (status: number, body: object) => json(status, { status, ...body }, "application/problem+json");
const fetchMock = vi.fn<typeof fetch>();

interface Sent {
  url: string;
  method: string;
  body: unknown;
  token: string | undefined;
}
const sent: Sent[] = [];
const sentTo = (url: string, method = "GET") => sent.filter((r) => r.url === url && r.method === method);

/**
 * Users as the shopper's account is: GET /users/me, PATCH /users/2 answered by `patch` (the account then reads as it
 * answered), Sign out everywhere, and a refresh that hands out `t2`. `refused`: access tokens Users refuses now (401).
 */
function serveAccount(patch: (body: Record<string, unknown>) => Response | Promise<Response> = (body) => json(200, { ...shopper, ...body }), refused: string[] = []) {
  let account = shopper;
  fetchMock.mockImplementation(async (input, init) => {
    const url = String(input);
    const method = init?.method ?? "GET";
    const token = (init?.headers as Record<string, string> | undefined)?.Authorization?.replace("Bearer ", "");
    const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
    sent.push({ url, method, body, token });
    if (url === "/users/token/refresh") return json(200, { access_token: "t2", token_type: "bearer", expires_in: 3600, user: account });
    if (url === "/users/login") return json(200, { access_token: "t3", token_type: "bearer", expires_in: 3600, user: account });
    if (token && refused.includes(token)) return problem(401, { title: "Unauthorized", detail: "The token is no longer valid." });
    if (url === "/users/me") return json(200, account);
    if (url === "/users/logout-everywhere") return new Response(null, { status: 204 });
    if (url === `/users/${shopper.id}` && method === "PATCH") {
      const answer = await patch(body as Record<string, unknown>);
      if (answer.ok) account = (await answer.clone().json()) as typeof shopper;
      return answer;
    }
    return json(200, { items: [], total: 0, limit: 20, offset: 0 });
  });
}

function signedIn() {
  saveSession({ access_token: "t", token_type: "bearer", expires_in: 3600, user: shopper });
}

/** The shop reads as usual and answers every write with a 429 (30 seconds to wait). */
function refuseEveryWrite() {
  fetchMock.mockImplementation(async (input, init) =>
    (init?.method ?? "GET") === "GET"
      ? json(200, String(input) === "/users/me" ? shopper : { items: [], total: 0, limit: 20, offset: 0 })
      : tooManyRequests("30"),
  );
}

/** The account page's form named by its heading. */
const form = (name: string) => screen.getByRole("form", { name });
/** Every polite live region on the page now, to see later what was said (a region added with its words is often not read). */
const liveRegions = () => [...document.querySelectorAll("[aria-live=polite], [role=status]")];

/** The Account page opened, its email changed to `to` and saved with the current password. */
async function changeEmail(to: string) {
  renderAt("/account");
  const profile = await screen.findByRole("form", { name: "Profile" });
  const email = await within(profile).findByLabelText("Email");
  fireEvent.change(email, { target: { value: to } });
  fireEvent.change(within(profile).getByLabelText("Current password"), { target: { value: "old-pass-1" } });
  fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
  return { profile, email };
}

beforeEach(() => {
  sessionStorage.clear();
  localStorage.clear();
  clearSession();
  sent.length = 0;
  fetchMock.mockReset();
  vi.stubGlobal("fetch", fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("account page", () => {
  it("is linked from the signed-in navigation, named like the other pages, and shows the profile as the shop has it", async () => {
    signedIn();
    serveAccount();
    renderAt("/my/orders");
    fireEvent.click(await screen.findByRole("link", { name: "Account" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Account" })).toBeTruthy();
    await waitFor(() => expect(document.title).toBe("Account · Shop"));
    // The heading and title come before the account is read: the forms come with it.
    const profile = await screen.findByRole("form", { name: "Profile" });
    expect((await within(profile).findByLabelText<HTMLInputElement>("Name")).value).toBe("Bob");
    expect(within(profile).getByLabelText<HTMLInputElement>("Email").value).toBe("bob@example.com");
    expect(within(form("Password")).getByLabelText("Current password")).toBeTruthy();
    expect(within(form("Password")).getByLabelText("New password")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Sign out everywhere" })).toBeTruthy();
  });

  it("profile: Save sends only the name that changed, says so once, and the header shows the new name", async () => {
    signedIn();
    serveAccount();
    renderAt("/account");
    const profile = await screen.findByRole("form", { name: "Profile" });
    const name = await within(profile).findByLabelText("Name");
    const regions = liveRegions();
    fireEvent.change(name, { target: { value: "  Robert " } });
    // Only an email change asks for the current password.
    expect(within(profile).queryByLabelText("Current password")).toBeNull();
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(within(screen.getByRole("banner")).getByText("Robert")).toBeTruthy());
    expect(sentTo("/users/2", "PATCH").map((r) => r.body)).toEqual([{ name: "Robert" }]);
    expect(getSession()?.user.name).toBe("Robert");
    const saved = "Your profile was saved.";
    await waitFor(() => expect(regions.filter((r) => r.textContent === saved)).toHaveLength(1));
  });

  it("profile: a name longer than the shop takes (counted in characters: an emoji is one) is said on the field and not sent", async () => {
    signedIn();
    serveAccount();
    renderAt("/account");
    const profile = await screen.findByRole("form", { name: "Profile" });
    const name = await within(profile).findByLabelText("Name");
    typeInto(name, emojiName(101));
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(description(name)).toBe("Shorten this to 100 characters: it has 101.");
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(document.activeElement).toBe(name));
    expect(sentTo("/users/2", "PATCH")).toEqual([]);
    typeInto(name, emojiName(100));
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(sentTo("/users/2", "PATCH").map((r) => r.body)).toEqual([{ name: emojiName(100) }]));
  });

  it("profile: an email change sends the current password with it; the shop's field errors stand on their fields", async () => {
    signedIn();
    serveAccount(() => problem(400, { title: "One or more validation errors occurred.", errors: { email: ["Must be a valid email address."] } }));
    const { profile, email } = await changeEmail("bob@example");
    await waitFor(() => expect(email.getAttribute("aria-invalid")).toBe("true"));
    expect(description(email)).toBe("Must be a valid email address.");
    expect(within(profile).getByLabelText("Name").getAttribute("aria-invalid")).toBeNull();
    expect(within(profile).getByRole("alert").textContent).toMatch(/Email: Must be a valid email address/);
    expect(sentTo("/users/2", "PATCH").map((r) => r.body)).toEqual([{ email: "bob@example", current_password: "old-pass-1" }]);
  });

  it("profile: an email another account uses (409) is said on the Email field", async () => {
    signedIn();
    serveAccount(() => problem(409, { title: "Email already registered", detail: "Another account uses this email." }));
    const { profile, email } = await changeEmail("ada@example.com");
    await waitFor(() => expect(email.getAttribute("aria-invalid")).toBe("true"));
    expect(description(email)).toBe("Another account uses this email.");
    // Their own email typed back: the refusal was about the other one, and there is nothing to save now.
    fireEvent.change(email, { target: { value: "bob@example.com" } });
    expect(email.getAttribute("aria-invalid")).toBeNull();
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    expect(await within(profile).findByText("Nothing to save: your name and email are as they were.")).toBeTruthy();
    expect(sentTo("/users/2", "PATCH")).toHaveLength(1);
  });

  it("password: while a second change is on its way, the first one's success is not shown (nor said) again", async () => {
    signedIn();
    let answers = [() => json(200, shopper), () => problem(400, { title: "One or more validation errors occurred.", errors: { current_password: ["The current password is incorrect."] } })];
    let last: (r: Response) => void = () => {};
    serveAccount(() => (answers.length > 0 ? answers.shift()!() : new Promise<Response>((resolve) => (last = resolve))));
    renderAt("/account");
    const password = await screen.findByRole("form", { name: "Password" });
    const change = async (current: string) => {
      fireEvent.change(within(password).getByLabelText("Current password"), { target: { value: current } });
      fireEvent.change(within(password).getByLabelText("New password"), { target: { value: "new-pass-12" } });
      fireEvent.click(within(password).getByRole("button", { name: "Change password" }));
    };
    const words = "Your password was changed. Your other sessions were signed out.";
    await change("old-pass-1");
    expect(await within(password).findByText(words)).toBeTruthy();
    await change("wrong-pass");
    await waitFor(() => expect(within(password).getByLabelText("Current password").getAttribute("aria-invalid")).toBe("true"));
    await change("new-pass-12");
    await waitFor(() => expect(within(password).getByRole("button", { name: "Change password" }).getAttribute("aria-busy")).toBe("true"));
    expect(within(password).queryByText(words)).toBeNull();
    answers = [];
    last(json(200, shopper));
  });

  it("password: one request for a double click, and while it is changed the button stays focusable; then the other sessions are said to be signed out and the tab keeps working", async () => {
    signedIn();
    let answer: () => void = () => {};
    const refused: string[] = [];
    serveAccount(
      (body) =>
        new Promise<Response>((resolve) => {
          answer = () => {
            refused.push("t"); // the stamp rose: this tab's access token is refused from now on, its session kept
            resolve(json(200, shopper));
          };
          expect(body).toEqual({ current_password: "old-pass-1", password: "new-pass-12" });
        }),
      refused,
    );
    renderAt("/account");
    const password = await screen.findByRole("form", { name: "Password" });
    expect(within(password).getByLabelText("New password").getAttribute("autocomplete")).toBe("new-password");
    expect(description(within(password).getByLabelText("New password"))).toBe("At least 8 characters.");
    const regions = liveRegions();
    fireEvent.change(within(password).getByLabelText("Current password"), { target: { value: "old-pass-1" } });
    fireEvent.change(within(password).getByLabelText("New password"), { target: { value: "new-pass-12" } });
    const change = within(password).getByRole("button", { name: "Change password" });
    change.focus();
    fireEvent.click(change);
    fireEvent.click(change); // a double click: the second press finds the first request on its way and sends nothing
    await waitFor(() => expect(change.getAttribute("aria-disabled")).toBe("true"));
    expect(sentTo("/users/2", "PATCH")).toHaveLength(1);
    expect(document.activeElement).toBe(change);
    answer();
    const words = "Your password was changed. Your other sessions were signed out.";
    await waitFor(() => expect(regions.filter((r) => r.textContent === words)).toHaveLength(1));
    expect(within(password).getByLabelText<HTMLInputElement>("Current password").value).toBe("");
    expect(within(password).getByLabelText<HTMLInputElement>("New password").value).toBe("");
    expect(document.activeElement).toBe(change);

    fireEvent.click(screen.getByRole("link", { name: "My orders" }));
    expect(await screen.findByRole("heading", { level: 1, name: "My orders" })).toBeTruthy();
    await waitFor(() => expect(sent.some((r) => r.url.startsWith("/orders") && r.token === "t2")).toBe(true));
    expect(getSession()?.token).toBe("t2");
  });

  it("password: a wrong current password is said on that field", async () => {
    signedIn();
    serveAccount(() => problem(400, { title: "One or more validation errors occurred.", errors: { current_password: ["The current password is incorrect."] } }));
    renderAt("/account");
    const password = await screen.findByRole("form", { name: "Password" });
    fireEvent.change(within(password).getByLabelText("Current password"), { target: { value: "wrong-pass" } });
    fireEvent.change(within(password).getByLabelText("New password"), { target: { value: "new-pass-12" } });
    fireEvent.click(within(password).getByRole("button", { name: "Change password" }));
    const current = within(password).getByLabelText("Current password");
    await waitFor(() => expect(current.getAttribute("aria-invalid")).toBe("true"));
    expect(description(current)).toBe("The current password is incorrect.");
    expect(within(password).getByLabelText("New password").getAttribute("aria-invalid")).toBeNull();
  });

  // Four emoji are 8 UTF-16 units but 4 characters, as Users counts them.
  it.each(["short", "🔑".repeat(4)])("password: a new password shorter than sign-up allows (%s) is refused before it is sent, as Create account refuses it", async (short) => {
    signedIn();
    serveAccount();
    renderAt("/account");
    const password = await screen.findByRole("form", { name: "Password" });
    fireEvent.change(within(password).getByLabelText("Current password"), { target: { value: "old-pass-1" } });
    fireEvent.change(within(password).getByLabelText("New password"), { target: { value: short } });
    fireEvent.click(within(password).getByRole("button", { name: "Change password" }));
    const newPassword = within(password).getByLabelText("New password");
    await waitFor(() => expect(fieldProblem(newPassword)).toBe("Password must be at least 8 characters."));
    expect(document.activeElement).toBe(newPassword);
    expect(within(password).queryByRole("alert")).toBeNull(); // said on its field, not again in an alert
    expect(sentTo("/users/2", "PATCH")).toEqual([]);
  });

  it("password: an empty current password and new password are said on their fields (aria-invalid, described by why), the first takes focus, and nothing is sent", async () => {
    signedIn();
    serveAccount();
    renderAt("/account");
    const password = await screen.findByRole("form", { name: "Password" });
    const current = within(password).getByLabelText("Current password");
    const next = within(password).getByLabelText("New password");
    fireEvent.click(within(password).getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(fieldProblem(current)).toBe("Enter your current password."));
    expect(fieldProblem(next)).toBe("Password must be at least 8 characters.");
    expect(document.activeElement).toBe(current);
    expect(within(password).queryByRole("alert")).toBeNull();

    // Mended, its words go at the next submit; what is still wrong stays and takes focus.
    fireEvent.change(current, { target: { value: "old-pass-1" } });
    fireEvent.click(within(password).getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(fieldProblem(current)).toBeNull());
    expect(document.activeElement).toBe(next);
    expect(sentTo("/users/2", "PATCH")).toEqual([]);
  });

  it("profile: an empty name and email, and a new email without the current password, are said on their fields, the first takes focus, and nothing is sent", async () => {
    signedIn();
    serveAccount();
    renderAt("/account");
    const profile = await screen.findByRole("form", { name: "Profile" });
    const name = await within(profile).findByLabelText("Name");
    const email = within(profile).getByLabelText("Email");
    fireEvent.change(name, { target: { value: " " } });
    fireEvent.change(email, { target: { value: "" } });
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(fieldProblem(name)).toBe("Enter your name."));
    expect(fieldProblem(email)).toBe("Enter your email.");
    expect(document.activeElement).toBe(name);
    expect(within(profile).queryByRole("alert")).toBeNull();

    fireEvent.change(name, { target: { value: "Bob" } });
    fireEvent.change(email, { target: { value: "robert@example.com" } });
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    const current = within(profile).getByLabelText("Current password");
    await waitFor(() => expect(fieldProblem(current)).toBe("Enter your current password to change your email."));
    expect(fieldProblem(name)).toBeNull();
    expect(fieldProblem(email)).toBeNull();
    expect(document.activeElement).toBe(current);
    expect(sentTo("/users/2", "PATCH")).toEqual([]);

    fireEvent.change(current, { target: { value: "old-pass-1" } });
    fireEvent.click(within(profile).getByRole("button", { name: "Save profile" }));
    await waitFor(() => expect(sentTo("/users/2", "PATCH").map((r) => r.body)).toEqual([{ email: "robert@example.com", current_password: "old-pass-1" }]));
    await waitFor(() => expect(fieldProblem(within(profile).getByLabelText("Email"))).toBeNull());
  });

  it("sign out everywhere: after Confirm every session ends, this one too, and sign in says so", async () => {
    signedIn();
    serveAccount();
    renderAt("/account");
    const signOutEverywhere = await screen.findByRole("button", { name: "Sign out everywhere" });
    const regions = liveRegions();
    fireEvent.click(signOutEverywhere);
    fireEvent.click(screen.getByRole("button", { name: "Confirm sign out everywhere" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    expect(sentTo("/users/logout-everywhere", "POST").map((r) => r.token)).toEqual(["t"]);
    expect(getSession()).toBeNull();
    const words = "You were signed out everywhere, on this device too.";
    expect(screen.getAllByText(words, { exact: false }).length).toBeGreaterThan(0);
    await waitFor(() => expect(regions.some((r) => r.textContent?.includes(words))).toBe(true));
  });

  it("each of its writes held by a 429 (10 account changes a minute): the button stays focusable but unavailable, says why, and neither a press nor Enter sends again", async () => {
    signedIn();
    refuseEveryWrite();
    const writes: [() => Promise<unknown>, () => HTMLElement][] = [
      [
        async () => fireEvent.change(within(await screen.findByRole("form", { name: "Profile" })).getByLabelText("Name"), { target: { value: "Robert" } }),
        () => within(form("Profile")).getByRole("button", { name: "Save profile" }),
      ],
      [
        async () => {
          const password = await screen.findByRole("form", { name: "Password" });
          fireEvent.change(within(password).getByLabelText("Current password"), { target: { value: "old-pass-1" } });
          fireEvent.change(within(password).getByLabelText("New password"), { target: { value: "new-pass-1" } });
        },
        () => within(form("Password")).getByRole("button", { name: "Change password" }),
      ],
      [
        async () => fireEvent.click(await screen.findByRole("button", { name: "Sign out everywhere" })),
        () => screen.getByRole("button", { name: "Confirm sign out everywhere" }),
      ],
    ];
    const writesSent = () => fetchMock.mock.calls.filter(([, init]) => (init?.method ?? "GET") !== "GET").length;
    for (const [prepare, button] of writes) {
      renderAt("/account");
      await prepare();
      await pressRefusedAndHeld(button, "Too many attempts. Please try again in 30 seconds.", writesSent);
      expect(writesSent()).toBe(1);
      cleanup();
      fetchMock.mockClear();
    }
  });

  it("a 429 on one change of one's account holds the other (one budget, 10 a minute), and not Sign out everywhere (another)", async () => {
    signedIn();
    refuseEveryWrite();
    renderAt("/account");
    fireEvent.change(within(await screen.findByRole("form", { name: "Profile" })).getByLabelText("Name"), { target: { value: "Robert" } });
    const password = form("Password");
    fireEvent.change(within(password).getByLabelText("Current password"), { target: { value: "old-pass-1" } });
    fireEvent.change(within(password).getByLabelText("New password"), { target: { value: "new-pass-1" } });
    fireEvent.click(within(form("Profile")).getByRole("button", { name: "Save profile" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Please try again in 30 seconds.");
    const change = within(password).getByRole("button", { name: "Change password" });
    await waitFor(() => expect(change.getAttribute("aria-disabled")).toBe("true"));
    expectHeldExplanation(change);
    fireEvent.submit(password);
    await act(async () => {});
    expect(fetchMock.mock.calls.filter(([, init]) => (init?.method ?? "GET") !== "GET").length).toBe(1);
    expect(screen.getByRole("button", { name: "Sign out everywhere" }).getAttribute("aria-disabled")).toBeNull();
  });

  describe("holds reset on user change", () => {
    const ada = { ...shopper, id: 3, name: "Ada", email: "ada@example.com" };
    /** Users with Bob signed in (token t) and Ada signing in next (t3); `write` answers every write but sign-in and sign-out. */
    function serveBobThenAda(write: (url: string) => Promise<Response>) {
      fetchMock.mockImplementation(async (input, init) => {
        const url = String(input);
        const token = (init?.headers as Record<string, string> | undefined)?.Authorization?.replace("Bearer ", "");
        if (url === "/users/login") return json(200, { access_token: "t3", token_type: "bearer", expires_in: 3600, user: ada });
        if (url === "/users/logout") return new Response(null, { status: 204 });
        if ((init?.method ?? "GET") !== "GET") return write(url);
        if (url === "/users/me") return json(200, token === "t3" ? ada : shopper);
        return json(200, { items: [], total: 0, limit: 12, offset: 0 });
      });
    }
    /** Bob signs out in the header, Ada signs in at this browser and opens her Account page. */
    async function bobLeavesAndAdaComes() {
      fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
      expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
      fireEvent.change(screen.getByLabelText("Email"), { target: { value: ada.email } });
      fireEvent.change(screen.getByLabelText("Password"), { target: { value: "ada-pass-1" } });
      fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
      expect(await screen.findByRole("heading", { level: 1, name: "Catalogue" })).toBeTruthy();
      fireEvent.click(screen.getByRole("link", { name: "Account" }));
      const profile = await screen.findByRole("form", { name: "Profile" });
      await waitFor(() => expect(within(profile).getByLabelText<HTMLInputElement>("Name").value).toBe("Ada"));
      return profile;
    }

    it("holds reset on user change: the hold on the user's own budget (Sign out everywhere: the general one, per user) goes with them; the address's (account changes) stays for the next user here, whom the gateway counts in it too", async () => {
      signedIn();
      serveBobThenAda(async () => tooManyRequests("30"));
      renderAt("/account");
      // Bob: Save profile and Sign out everywhere, each refused with a 429 (30 s), each holding its budget.
      fireEvent.change(within(await screen.findByRole("form", { name: "Profile" })).getByLabelText("Name"), { target: { value: "Robert" } });
      fireEvent.click(within(form("Profile")).getByRole("button", { name: "Save profile" }));
      await waitFor(() => expectHeldExplanation(within(form("Password")).getByRole("button", { name: "Change password" })));
      fireEvent.click(screen.getByRole("button", { name: "Sign out everywhere" }));
      fireEvent.click(screen.getByRole("button", { name: "Confirm sign out everywhere" }));
      await waitFor(() => expectHeldExplanation(screen.getByRole("button", { name: "Confirm sign out everywhere" })));

      const profile = await bobLeavesAndAdaComes();
      // The account-change budget is the address's (GatewayRateLimiter): Ada's change would be refused as Bob's was.
      const save = within(profile).getByRole("button", { name: "Save profile" });
      expect(save.getAttribute("aria-disabled"), "Save profile").toBe("true");
      expectHeldExplanation(save);
      // The general budget is counted per user: Bob's spent one is not Ada's.
      fireEvent.click(screen.getByRole("button", { name: "Sign out everywhere" }));
      expect(screen.getByRole("button", { name: "Confirm sign out everywhere" }).getAttribute("aria-disabled"), "Confirm sign out everywhere").toBeNull();
    });

    it("holds reset on user change: a 429 answered to the last user's request after they signed out holds nothing of the next user's", async () => {
      signedIn();
      let refuse: () => void = () => {};
      serveBobThenAda((url) =>
        url === "/users/logout-everywhere" ? new Promise<Response>((r) => (refuse = () => r(tooManyRequests("30")))) : Promise.resolve(tooManyRequests("30")),
      );
      const queryClient = createQueryClient();
      let answered = false;
      queryClient.getMutationCache().subscribe((event) => {
        if (event.type === "updated" && event.action.type === "error") answered = true;
      });
      renderAt("/account", queryClient);
      // Bob's Sign out everywhere is on its way (a slow answer) when he signs out and Ada signs in.
      fireEvent.click(await screen.findByRole("button", { name: "Sign out everywhere" }));
      fireEvent.click(screen.getByRole("button", { name: "Confirm sign out everywhere" }));
      await waitFor(() => expect(fetchMock.mock.calls.filter(([u]) => String(u) === "/users/logout-everywhere")).toHaveLength(1));
      await bobLeavesAndAdaComes();
      act(() => refuse());
      await waitFor(() => expect(answered).toBe(true));
      await act(async () => {});
      // It spent Bob's budget (the general one, per user), not Ada's.
      fireEvent.click(screen.getByRole("button", { name: "Sign out everywhere" }));
      expect(screen.getByRole("button", { name: "Confirm sign out everywhere" }).getAttribute("aria-disabled"), "Confirm sign out everywhere").toBeNull();
    });
  });

  it("a signed-out visit goes to sign in, and back to the account page after it", async () => {
    serveAccount();
    renderAt("/account");
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in" })).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "old-pass-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Account" })).toBeTruthy();
  });
});
