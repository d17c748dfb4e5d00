import { configure } from "@testing-library/dom";
import { afterEach } from "vitest";
import { stopSendingSignOuts } from "./api/client";

// findBy* and waitFor give up after 1 s by default; a page's first render (its modules compiled cold) on a busy
// 2-core machine can take longer. Waiting longer costs nothing when the page is quick.
configure({ asyncUtilTimeout: 5000 });

// A sign-out a test left unanswered is sent again later (client.ts): not into the next test's fetch.
afterEach(stopSendingSignOuts);
