import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate, useNavigation } from "react-router";
import { setUnauthorizedHandler } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { cartCount } from "../lib/cart";
import { useCart } from "../lib/useCart";
import { focusStillIn } from "../lib/focus";
import { Announcer } from "./Announcer";
import { cx } from "./ui";

function navClass({ isActive }: { isActive: boolean }) {
  return cx(
    "block rounded-md px-3 py-2 text-sm font-medium transition-colors",
    isActive ? "bg-stone-100 text-stone-900" : "text-stone-600 hover:bg-stone-50 hover:text-stone-900",
  );
}

/**
 * After a navigation the user made (not the first load, nor the redirects it may go through, such as "/" to the
 * catalogue, and not a change of query string such as a search being typed), focus goes to the new page's h1, or to
 * `<main>` while the page has none yet: otherwise keyboard and screen-reader users stay on the link they followed (or
 * on nothing, if it went away), and nothing announces the page they are on now. Until the user has pressed a key or a
 * pointer, focus stays where the browser put it, so a page load still starts at "Skip to content".
 */
function useFocusOnNavigation(main: RefObject<HTMLElement | null>, pathname: string) {
  const shown = useRef(pathname);
  const interacted = useRef(false);
  // A layout effect, so the listeners are there once anything of the page is: with a passive effect a click
  // right after the first paint (a test's, under load) could come before them and not count.
  useLayoutEffect(() => {
    const note = () => {
      interacted.current = true;
    };
    document.addEventListener("pointerdown", note, { capture: true, once: true });
    document.addEventListener("keydown", note, { capture: true, once: true });
    return () => {
      document.removeEventListener("pointerdown", note, { capture: true });
      document.removeEventListener("keydown", note, { capture: true });
    };
  }, []);
  useEffect(() => {
    if (shown.current === pathname) return;
    shown.current = pathname;
    if (!interacted.current) return;
    const target = main.current?.querySelector<HTMLElement>("h1") ?? main.current;
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1"); // focusable by script, not by Tab
    target.focus();
  }, [main, pathname]);
}

export default function Layout() {
  const { user, isAdmin, signOut, restoring } = useAuth();
  const { cart } = useCart();
  const count = cartCount(cart);
  const navigate = useNavigate();
  const location = useLocation();
  const navigation = useNavigation();
  // The path the phone-size menu was opened at: it is open only there, so navigating closes it with no effect to run.
  // An effect that closed it on every path change also ran on mount, after the first paint: a press of Menu made before
  // that effect ran (a test's, on a loaded machine) was undone by it.
  const [menuOpenAt, setMenuOpenAt] = useState<string | null>(null);
  const menuOpen = menuOpenAt === location.pathname;
  // Forgotten once left (during render, as React allows for state derived from props), so Back does not reopen it.
  if (menuOpenAt !== null && !menuOpen) setMenuOpenAt(null);
  const main = useRef<HTMLElement>(null);
  const header = useRef<HTMLElement>(null);
  const menuButton = useRef<HTMLButtonElement>(null);
  useFocusOnNavigation(main, location.pathname);

  // A 401 on an authenticated call clears the session (in the API client) and lands here.
  useEffect(() => {
    setUnauthorizedHandler(() => {
      navigate("/signin", { replace: true, state: { from: location.pathname + location.search, expired: true } });
    });
    return () => setUnauthorizedHandler(null);
  }, [navigate, location.pathname, location.search]);

  // Escape closes it too (as a disclosure's keyboard users expect), and focus in it (which goes with it) goes back to
  // the button that opened it; focus the user put in the page stays there.
  useEffect(() => {
    if (!menuOpen) return;
    const close = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      setMenuOpenAt(null);
      if (focusStillIn(header.current)) menuButton.current?.focus();
    };
    document.addEventListener("keydown", close);
    return () => document.removeEventListener("keydown", close);
  }, [menuOpen]);

  const links = (
    <>
      <NavLink to="/catalog" className={navClass}>
        Catalogue
      </NavLink>
      {user ? (
        <>
          <NavLink to="/my/orders" className={navClass}>
            My orders
          </NavLink>
          <NavLink to="/account" className={navClass}>
            Account
          </NavLink>
        </>
      ) : null}
      {isAdmin ? (
        <>
          <span className="mx-1 hidden h-5 w-px bg-stone-200 md:inline-block" aria-hidden="true" />
          <NavLink to="/admin/inventory" className={navClass}>
            Inventory
          </NavLink>
          <NavLink to="/admin/orders" className={navClass}>
            All orders
          </NavLink>
          <NavLink to="/admin/users" className={navClass}>
            Users
          </NavLink>
          <NavLink to="/admin/webhooks" className={navClass}>
            Webhooks
          </NavLink>
        </>
      ) : null}
    </>
  );

  const account = user ? (
    <>
      <span className="truncate px-3 text-sm text-stone-500 md:max-w-40 md:px-0" title={user.email}>
        {user.name}
        {isAdmin ? <span className="ml-1 text-xs font-medium text-indigo-600">(admin)</span> : null}
      </span>
      <button
        type="button"
        onClick={() => {
          signOut();
          navigate("/signin");
        }}
        className="rounded-md px-3 py-2 text-left text-sm font-medium text-stone-600 hover:bg-stone-50 hover:text-stone-900"
      >
        Sign out
      </button>
    </>
  ) : restoring ? null : (
    <>
      <NavLink to="/signin" className={navClass}>
        Sign in
      </NavLink>
      <Link
        to="/register"
        className="rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500"
      >
        Register
      </Link>
    </>
  );

  return (
    <div className="flex min-h-screen flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <div
        className={cx(
          "fixed inset-x-0 top-0 z-50 h-0.5 bg-indigo-600 transition-opacity",
          navigation.state === "loading" ? "animate-pulse opacity-100" : "opacity-0",
        )}
        aria-hidden="true"
      />
      <header ref={header} className="sticky top-0 z-40 border-b border-stone-200 bg-white/90 backdrop-blur">
        <div className="mx-auto flex h-16 max-w-6xl items-center gap-4 px-4 sm:px-6">
          <Link to="/catalog" className="flex items-center gap-2 font-semibold text-stone-900">
            <img src="/favicon.svg" alt="" className="size-7" />
            <span>Shop</span>
          </Link>
          <nav aria-label="Main" className="hidden flex-1 items-center gap-1 md:flex">
            {links}
          </nav>
          <div className="ml-auto flex items-center gap-2 md:ml-0">
            <NavLink
              to="/cart"
              className={({ isActive }) =>
                cx(
                  "inline-flex items-center gap-1.5 rounded-md px-3 py-2 text-sm font-medium",
                  isActive ? "bg-indigo-50 text-indigo-700" : "text-stone-700 hover:bg-stone-50",
                )
              }
            >
              <svg aria-hidden="true" viewBox="0 0 20 20" fill="currentColor" className="size-4">
                <path d="M3 3h2l.4 2M7 13h8l3-7H5.4M7 13 5.4 5M7 13l-1.3 2.6A1 1 0 0 0 6.6 17H16M9 19a1 1 0 1 1-2 0 1 1 0 0 1 2 0Zm8 0a1 1 0 1 1-2 0 1 1 0 0 1 2 0Z" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
              </svg>
              {`Cart (${count})`}
            </NavLink>
            <div className="hidden items-center gap-2 md:flex">{account}</div>
            <button
              ref={menuButton}
              type="button"
              className="rounded-md p-2 text-stone-600 hover:bg-stone-100 md:hidden"
              aria-expanded={menuOpen}
              aria-controls="mobile-menu"
              onClick={() => setMenuOpenAt(menuOpen ? null : location.pathname)}
            >
              <span className="sr-only">Menu</span>
              <svg aria-hidden="true" viewBox="0 0 20 20" className="size-5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round">
                {menuOpen ? <path d="M5 5l10 10M15 5 5 15" /> : <path d="M3 6h14M3 10h14M3 14h14" />}
              </svg>
            </button>
          </div>
        </div>
        {menuOpen ? (
          <div id="mobile-menu" className="border-t border-stone-200 bg-white px-4 py-3 md:hidden">
            <nav aria-label="Mobile" className="flex flex-col gap-1">
              {links}
            </nav>
            <div className="mt-3 flex flex-col gap-1 border-t border-stone-100 pt-3">{account}</div>
          </div>
        ) : null}
      </header>
      <main id="main" ref={main} tabIndex={-1} className="mx-auto w-full max-w-6xl flex-1 px-4 py-8 outline-none sm:px-6">
        {/* Its live region stays while pages come and go. */}
        <Announcer>
          <Outlet />
        </Announcer>
      </main>
      <footer className="border-t border-stone-200 bg-white">
        <div className="mx-auto max-w-6xl px-4 py-6 text-xs text-stone-500 sm:px-6">© Shop</div>
      </footer>
    </div>
  );
}
