import { describe, expect, it } from "vitest";
import { ApiError, errorMessage, extractShortages, fieldError, humanizeField, NETWORK_ERROR_MESSAGE, networkError, problemToError, retryAfterSeconds } from "./errors";

describe("problem+json → message", () => {
  it("lists validation errors per field", () => {
    const e = problemToError(400, {
      type: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
      title: "One or more validation errors occurred.",
      status: 400,
      errors: { email: ["The email is not valid."], password: ["Must be at least 8 characters.", "Too common."] },
    });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.message).toBe(
      "Please check the following: Email: The email is not valid. Password: Must be at least 8 characters. Too common.",
    );
    expect(problemToError(400, { errors: { name: ["is required"] } }).message).toBe(
      "Please check the following: Name: is required.",
    );
    // Each field's words are a sentence of their own, ended where the shop did not end them.
    expect(problemToError(400, { errors: { name: ["is required"], email: ["is not valid"] } }).message).toBe(
      "Please check the following: Name: is required. Email: is not valid.",
    );
    expect(fieldError(e, "password")).toBe("Must be at least 8 characters. Too common.");
    expect(e.message).not.toContain("{");
  });

  it("humanizes server field names", () => {
    expect(humanizeField("unit_price")).toBe("Unit price");
    expect(humanizeField("$.email")).toBe("Email");
    expect(humanizeField("Items[0].Qty")).toBe("Items 1 qty");
    expect(humanizeField("$")).toBe("Request");
  });

  it("matches field errors case-insensitively", () => {
    const e = problemToError(400, { errors: { Email: ["taken"] } });
    expect(fieldError(e, "email")).toBe("taken");
    expect(fieldError(new Error("x"), "email")).toBeUndefined();
  });

  it("names the short skus of a 409 stock problem", () => {
    const e = problemToError(409, {
      title: "Insufficient stock",
      status: 409,
      detail: "Insufficient stock",
      short_skus: ["SKU-1", "SKU-2"],
    });
    expect(e.shortSkus).toEqual(["SKU-1", "SKU-2"]);
    expect(e.message).toContain("Not enough stock for these items: SKU-1, SKU-2");
  });

  it("understands shortages given as objects with requested/available", () => {
    const e = problemToError(409, {
      status: 409,
      items: [{ sku: "MUG", requested: 3, available: 1 }],
    });
    expect(e.shortSkus).toEqual(["MUG"]);
    expect(e.message).toBe(
      "Not enough stock for this item: MUG (you asked for 3, 1 left). Lower the quantity or remove the item, then try again.",
    );
    expect(extractShortages({ shortages: [{ sku: "X", available: 0 }] })).toEqual([
      { sku: "X", requested: undefined, available: 0 },
    ]);
  });

  it("uses the detail of other conflicts", () => {
    const e = problemToError(409, { status: 409, title: "Conflict", detail: "Cannot move from delivered to paid." });
    expect(e.message).toBe("Cannot move from delivered to paid.");
    expect(e.shortSkus).toEqual([]);
  });

  it("maps 401 to an expired session when a token was sent, else to bad credentials", () => {
    expect(problemToError(401, null, { authenticated: true }).message).toBe(
      "Your session has expired. Please sign in again.",
    );
    expect(problemToError(401, null).message).toBe("The email or password is incorrect.");
    expect(problemToError(401, { detail: "Invalid email or password." }).message).toBe("Invalid email or password.");
  });

  it("explains 403, 404, 413, 422, 429 and 5xx in words", () => {
    expect(problemToError(403, null).message).toBe("You are not allowed to do that.");
    expect(problemToError(404, null).message).toBe("We could not find that.");
    expect(problemToError(413, null).message).toBe("That request is too large.");
    expect(problemToError(422, null).message).toMatch(/already sent with different contents/);
    expect(problemToError(429, null, { retryAfter: "120" }).message).toBe("Too many attempts. Please try again in 2 minutes.");
    expect(problemToError(429, null, { retryAfter: "30" }).message).toBe("Too many attempts. Please try again in 30 seconds.");
    expect(problemToError(429, null, { retryAfter: "1" }).message).toBe("Too many attempts. Please try again in 1 second.");
    expect(problemToError(503, { detail: "Npgsql.NpgsqlException at Foo.Bar()" }).message).toBe(
      "The shop is temporarily unavailable. Please try again in a moment.",
    );
    // The shop's own words when they are readable; "in a moment" only when it did not say how long (a Retry-After's
    // wait is what a held button says, in words of its own).
    expect(problemToError(503, { detail: "Orders' database is unavailable. Try again shortly." }).message).toBe(
      "Orders' database is unavailable. Try again shortly.",
    );
    expect(problemToError(503, null, { retryAfter: "5" }).message).toBe("The shop is temporarily unavailable.");
  });

  it("reads a Retry-After given in seconds or as an HTTP date, and nothing else", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds("Sat, 05 Dec 2026 12:02:00 GMT", now)).toBe(120);
    expect(retryAfterSeconds("Sat, 05 Dec 2026 11:00:00 GMT", now)).toBe(0);
    for (const nothing of [null, undefined, "", " ", "-5", "soon"]) expect(retryAfterSeconds(nothing, now)).toBeNull();
  });
  it("never shows raw JSON or stack traces from the body", () => {
    const e = problemToError(418, { detail: '{"raw":"json"}', title: "   at Shop.Orders.Foo(Bar x)" });
    expect(e.message).toBe("Request failed (418).");
  });

  it("reports network failures", () => {
    const e = networkError();
    expect(e.status).toBe(0);
    expect(e.isNetworkError).toBe(true);
    expect(e.message).toBe(NETWORK_ERROR_MESSAGE);
    expect(errorMessage(e)).toBe(NETWORK_ERROR_MESSAGE);
    expect(errorMessage(new TypeError("Failed to fetch"))).toBe("Something went wrong. Please try again.");
  });
});
