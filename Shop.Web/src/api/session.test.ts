// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "@testing-library/react";
import { clearSession, getSession, listenToOtherTabs, saveSession, sessionEnd, signOutEveryTab } from "./session";
import type { User } from "./types";

const ann: User = { id: 1, name: "Ann", email: "ann@example.com", role: "user", is_active: true, created_at: "2026-01-01T00:00:00Z" };
const bob: User = { ...ann, id: 2, name: "Bob", email: "bob@example.com" };
const signIn = (user: User) => saveSession({ access_token: `t${user.id}`, token_type: "bearer", expires_in: 600, user });

describe("tabs of one browser", () => {
  let otherTab: BroadcastChannel;
  beforeEach(() => {
    sessionStorage.clear();
    clearSession();
    otherTab = new BroadcastChannel("shop-session");
    listenToOtherTabs(); // once a tab: later calls add nothing
  });
  afterEach(() => {
    otherTab.close();
  });

  /** Signs `user` out here `how`, and returns what the browser's other tabs heard of it. */
  async function signOutAs(user: User, how: "signed-out" | "signed-out-everywhere"): Promise<unknown> {
    signIn(user);
    const heard = new Promise((resolve) => otherTab.addEventListener("message", (e) => resolve(e.data), { once: true }));
    signOutEveryTab(how);
    expect(getSession()).toBeNull();
    return heard;
  }

  it.each(["signed-out", "signed-out-everywhere"] as const)(
    "a tab that hears another tab's sign-out (%s) of its own user is signed out, as that tab was",
    async (how) => {
      const heard = await signOutAs(ann, how);
      signIn(ann); // this tab, as another tab of Ann's
      otherTab.postMessage(heard);
      await waitFor(() => expect(getSession()).toBeNull());
      expect(sessionEnd()).toBe(how);
    },
  );

  it("a tab of another user stays signed in: someone else's sign-out is not theirs", async () => {
    const annLeft = await signOutAs(ann, "signed-out");
    const bobLeftEverywhere = await signOutAs(bob, "signed-out-everywhere");
    signIn(bob);
    otherTab.postMessage(annLeft);
    otherTab.postMessage(bobLeftEverywhere); // heard after Ann's: one tab's messages arrive in order
    await waitFor(() => expect(getSession()).toBeNull());
    // Signed out by Bob's own sign-out, not by Ann's before it.
    expect(sessionEnd()).toBe("signed-out-everywhere");
  });
});
