#!/usr/bin/env python3
"""What shoppers meet while a deployment changes under them: a steady stream of requests through its gateway (stdlib only).

    availability_probe.py run --base http://127.0.0.1:18080 --sku SKU --log FILE
        every 100 ms a customer's read of the catalogue (GET /inventory/SKU) and, from another thread, of their orders
        (GET /orders/), both signed in with one session refreshed as the web app does (the catalogue needs a token too);
        one line per answer in FILE, until stopped (SIGTERM).
    availability_probe.py report --log FILE --since T [--label TEXT]
        per stream, the answers since T (Unix time): requests, failures by status, the longest run of failures in
        seconds. Exits 1 when an answer was wrong rather than unavailable (see Outcome), naming each.

A failure a shopper would retry (the gateway's 502/503/504, a refused connection, a timeout, a 429) is an availability
refusal: counted, never failing the test, as a shared machine decides how long it lasts. Anything else that is not
the expected answer (a 500, a 404, a read still refused with a token just refreshed, a refresh that ends the session)
is wrong, and fails it.
"""
import argparse, json, signal, sys, threading, time

# The request journey.py's Client sends, answered as (status, body) with "refused"/"timeout" when none came.
from journey import send

INTERVAL = 0.1
# Every request has a limit: a stream stuck on one answer would measure nothing meanwhile.
TIMEOUT = 10
UNAVAILABLE = {429, 502, 503, 504}
# The web app refreshes a token this long before it expires (tokenNeedsRefresh, Shop.Web/src/api/session.ts).
REFRESH_AHEAD = 5
# The gateway allows 60 refreshes a minute per address: while Users is away a refresh is tried at most once a second.
REFRESH_SPACING = 1.0


class Log:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, stream, started, status, wrong=""):
        """One answer: when it was asked, when it came, its status, and why it was wrong (empty: ok or unavailable)."""
        with self.lock:
            self.file.write(json.dumps({"stream": stream, "start": started, "end": time.time(), "status": status, "wrong": wrong}) + "\n")
            self.file.flush()


def every_interval(stop, request):
    next_at = time.monotonic()
    while not stop.is_set():
        request()
        next_at = max(next_at + INTERVAL, time.monotonic())
        stop.wait(next_at - time.monotonic())


def unavailable(status):
    return status in UNAVAILABLE or status in ("refused", "timeout")


class Session:
    """A customer's session as the web app keeps it: an access token, refreshed shortly before it expires and after a
    401, and the refresh token it is exchanged with (in the body, as an API client gets it; the browser's is a cookie)."""

    def __init__(self, base, tokens):
        self.base = base
        self.keep(tokens)
        self.last_refresh_try = 0.0
        # Both streams share the session, as a browser's tabs do (withRefreshLock in the web app): a refresh token used
        # twice ends the session, so one refreshes and the other takes its new token.
        self.lock = threading.Lock()

    def keep(self, tokens):
        self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.expires_at = time.time() + tokens["expires_in"]

    def refresh(self, used):
        """None when the token USED was replaced (here or by the other stream); else the status that stopped it and
        why that is wrong (the session ended: a key rotation signs nobody out), or "" when it was only unavailable (tried
        again, at most every REFRESH_SPACING)."""
        with self.lock:
            if self.token != used:
                return None
            if time.monotonic() - self.last_refresh_try < REFRESH_SPACING:
                return "refresh waiting", ""
            self.last_refresh_try = time.monotonic()
            status, body = send(self.base, "POST", "/users/token/refresh", {"refresh_token": self.refresh_token}, timeout=TIMEOUT)
            if status == 200:
                self.keep(body)
                return None
        # The web app's rule (fetchRefreshedTokens): only 400, 401 and 403 end the session.
        if status in (400, 401, 403):
            return f"refresh {status}", f"the refresh was refused ({status}: {str(body)[:200]}): the shopper is signed out"
        return f"refresh {status}", ""


def signed_in_read(session, stream, path, expected, log):
    """One read as the web app makes it; EXPECTED(body) says whether a 200's body is the right answer."""
    started = time.time()
    token = session.token
    if session.expires_at - REFRESH_AHEAD <= time.time():
        stopped = session.refresh(token)
        if stopped:
            log.write(stream, started, *stopped)
            return
    status, body = send(session.base, "GET", path, token=session.token, timeout=TIMEOUT)
    shown = status
    if status == 401:
        # The web app's answer to a 401: refresh, then the request again, once, with the new token.
        stopped = session.refresh(token)
        if stopped:
            log.write(stream, started, f"401, {stopped[0]}", stopped[1])
            return
        status, body = send(session.base, "GET", path, token=session.token, timeout=TIMEOUT)
        shown = "200 after refresh" if status == 200 else f"401, refreshed, {status}"
    wrong = ""
    if status == 401:
        wrong = f"401 for a token refreshed just before: {str(body)[:200]}"
    elif status == 200 and not expected(body):
        wrong = f"200 with another body: {str(body)[:200]}"
    elif status != 200 and not unavailable(status):
        wrong = f"{status}: {str(body)[:300]}"
    log.write(stream, started, shown, wrong)


def run(args):
    log = Log(args.log)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Its own customer: an account nobody else's check changes.
    email, password = f"probe-{int(time.time())}@example.com", "Probe-account-" + str(time.time_ns())
    for path, body, expect in (("/users/register", {"name": "Availability Probe", "email": email, "password": password}, (200, 201)),
                               ("/users/login", {"email": email, "password": password, "return_refresh_token": True}, (200,))):
        status, answer = send(args.base, "POST", path, body, timeout=TIMEOUT)
        if status not in expect:
            print(f"availability probe: {path} answered {status}: {answer}", file=sys.stderr)
            return 1
    session = Session(args.base, answer)
    reads = [("catalogue", f"/inventory/{args.sku}", lambda body: isinstance(body, dict) and body.get("sku") == args.sku),
             ("orders", "/orders/", lambda body: isinstance(body, (list, dict)))]
    streams = [threading.Thread(target=every_interval, args=(stop, lambda read=read: signed_in_read(session, *read, log)), daemon=True)
               for read in reads]
    for stream in streams:
        stream.start()
    while not stop.wait(1):
        pass
    for stream in streams:
        stream.join(2)  # a request still on its way at the end measures nothing
    return 0


def ok(status):
    return status in (200, "200 after refresh")


def report(args):
    answers = []
    with open(args.log, encoding="utf-8") as f:
        for line in f:
            answer = json.loads(line)
            if answer["start"] >= args.since:
                answers.append(answer)
    label = f"{args.label}: " if args.label else ""
    if not answers:
        print(f"    {label}the availability probe sent nothing since {args.since:.1f} (did it stop?)", file=sys.stderr)
        return 1
    span = max(a["end"] for a in answers) - args.since
    lines, wrong = [], []
    for stream, what in (("catalogue", "GET /inventory/{sku}"), ("orders", "GET /orders/")):
        mine = sorted((a for a in answers if a["stream"] == stream), key=lambda a: a["start"])
        failures, refreshed, longest, run_start = {}, 0, 0.0, None
        for a in mine:
            if ok(a["status"]):
                refreshed += a["status"] == "200 after refresh"
                if run_start is not None:
                    # A run of failures lasts from the first failed request sent to the next answered one sent.
                    longest, run_start = max(longest, a["start"] - run_start), None
            else:
                failures[str(a["status"])] = failures.get(str(a["status"]), 0) + 1
                run_start = a["start"] if run_start is None else run_start
                if a["wrong"]:
                    wrong.append(f"{what} at {time.strftime('%H:%M:%S', time.gmtime(a['start']))}: {a['wrong']}")
        if run_start is not None:
            longest = max(longest, mine[-1]["end"] - run_start)
        failed = sum(failures.values())
        by_status = ", ".join(f"{status} ×{count}" for status, count in sorted(failures.items()))
        lines.append(f"{what}: {len(mine)} requests, {failed} failed{f' ({by_status})' if failed else ''}"
                     f"{f', longest run of failures {longest:.1f} s' if failed else ''}"
                     f"{f'; {refreshed} answered after a refresh (401 first)' if refreshed else ''}")
    print(f"    {label}shoppers over {span:.1f} s: " + "; ".join(lines))
    for w in wrong[:10]:
        print(f"    WRONG ANSWER {w}", file=sys.stderr)
    if len(wrong) > 10:
        print(f"    … and {len(wrong) - 10} more wrong answers", file=sys.stderr)
    return 1 if wrong else 0


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    probe = commands.add_parser("run")
    probe.add_argument("--base", required=True)
    probe.add_argument("--sku", required=True)
    probe.add_argument("--log", required=True)
    summary = commands.add_parser("report")
    summary.add_argument("--log", required=True)
    summary.add_argument("--since", type=float, required=True, help="Unix time: the answers to requests sent from then on")
    summary.add_argument("--label")
    args = parser.parse_args()
    return run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    sys.exit(main())
