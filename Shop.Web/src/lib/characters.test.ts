// The API's count of a text's characters, as the SPA's field caps apply it.
import { describe, expect, it } from "vitest";
import { characters, countAs, tooLongProblem } from "./characters";

describe("characters", () => {
  it("counts an emoji (two UTF-16 units) once, as the API and PostgreSQL count it", () => {
    expect("😀".length).toBe(2);
    expect(characters("😀")).toBe(1);
    expect(characters("Mug 😀☕")).toBe(6);
  });

  it("counts a lone surrogate once, as .NET's EnumerateRunes does", () => {
    expect(characters("a\uD83D")).toBe(2);
  });
});

describe("tooLongProblem", () => {
  it("says nothing for a text that fits, counting what is sent: the text trimmed", () => {
    expect(tooLongProblem("😀".repeat(100), 100)).toBeNull();
    expect(tooLongProblem(`  ${"a".repeat(100)}  `, 100)).toBeNull();
  });

  it("says how far to shorten one that does not", () => {
    expect(tooLongProblem("😀".repeat(101), 100)).toBe("Shorten this to 100 characters: it has 101.");
  });
});

describe("countAs", () => {
  it("counts a password as Users does: as typed, in characters (an emoji once, its spaces too)", () => {
    expect(countAs(" 😀 ", "charactersAsTyped")).toBe(3);
    expect(countAs(" 😀 ", "characters")).toBe(1);
    expect(tooLongProblem("😀".repeat(128), 128, "charactersAsTyped")).toBeNull();
    expect(tooLongProblem("😀".repeat(129), 128, "charactersAsTyped")).toBe("Shorten this to 128 characters: it has 129.");
  });
});
