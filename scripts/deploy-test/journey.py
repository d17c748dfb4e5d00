#!/usr/bin/env python3
"""A customer's and an admin's journey through a running deployment's gateway (stdlib only).

    journey.py --base http://127.0.0.1:8080 --env DIR/.env --hook-bind 172.18.0.1 [--hook-port 80] [--cafile CA]

Registers and signs in a customer, has the admin (credentials from the deployment's .env) create an
item and subscribe a webhook (received here, on an address the compose network reaches), places an
order (stock deducted), checks the webhook's signature, cancels the order (stock restored) and loads
the SPA's index. Prints one line per step; exits non-zero at the first failure, naming it.

    journey.py … --after-restart SKU      the item survived a database restart and takes a write
    journey.py … --rotation SKU --token-file F [--new-key [--keep-new-token G] | --keys-removed G] [--redis-cli CMD]
        one step of docs/deploy.md's key rotations: the first call signs a customer in and keeps the token in F;
        later ones check it still works (--keep-new-token: and keep the new customer's token, signed with the current
        key, in G), or, --keys-removed (the urgent rotation: the current key G's token was signed with is replaced and
        the previous one dropped), that Users, Orders and Inventory all refuse both kept tokens; each has a new
        customer sign in, read SKU and order one, which makes Orders call Users and Inventory with its service key.
        With --redis-cli (the command that runs redis-cli against the deployment's Redis; the password is passed in
        REDISCLI_AUTH), the customer's security stamp is deleted from Redis before the read, so Inventory must ask
        Users for it with its own service key, and must have put it back by the time it answers.
"""
import argparse, base64, hashlib, hmac, http.server, json, os, secrets, shlex, ssl, subprocess, sys, threading, time, urllib.error, urllib.request


def read_env(path):
    values = {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        values[key] = value
    return values


def send(base, method, path, body=None, token=None, headers=None, timeout=30, context=None):
    """One request as an API client makes it (a JSON body, the bearer token): (status, the parsed JSON body or the text).
    The status is "refused" or "timeout" when no HTTP answer came; an error status is an answer like any other."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Accept": "application/json"})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, raw, content_type = response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, content_type = e.code, e.read(), e.headers.get("Content-Type", "")
    except (TimeoutError, OSError) as e:  # URLError, connection refused or reset, a read that timed out
        reason = getattr(e, "reason", e)
        return ("timeout" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else "refused"), str(reason)
    try:
        return status, json.loads(raw) if raw and "json" in content_type else raw.decode("utf-8", "replace")
    except ValueError:
        return status, raw[:300].decode("utf-8", "replace")


class Client:
    def __init__(self, base, cafile):
        self.base = base.rstrip("/")
        self.context = ssl.create_default_context(cafile=cafile) if cafile else None

    def call(self, method, path, body=None, token=None, expect=(200,), headers=None):
        status, answer = send(self.base, method, path, body, token, headers, context=self.context)
        if status not in expect:
            raise AssertionError(f"{method} {path}: HTTP {status}, expected {expect}: {str(answer)[:500]!r}")
        return answer


class Hooks(http.server.BaseHTTPRequestHandler):
    received = []
    lock = threading.Condition()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Hooks.lock:
            Hooks.received.append((self.path, dict(self.headers), body))
            Hooks.lock.notify_all()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_for_hook(path, event, order_id, timeout=60):
    # Only this run's subscription (its own path): an earlier run's subscription to the same receiver
    # address gets the same events, signed with its own secret.
    deadline = time.time() + timeout
    with Hooks.lock:
        while True:
            for received_path, headers, body in Hooks.received:
                if received_path == path and headers.get("X-Shop-Event") == event and order_id in body.decode():
                    return headers, body
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"no {event} webhook for order {order_id} at {path} within {timeout}s "
                                     f"(received: {[(p, h.get('X-Shop-Event')) for p, h, _ in Hooks.received]})")
            Hooks.lock.wait(left)


def verify_signature(secret, headers, body):
    # X-Shop-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
    parts = dict(p.split("=", 1) for p in headers["X-Shop-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        raise AssertionError("webhook signature does not verify")
    if abs(time.time() - int(parts["t"])) > 300:
        raise AssertionError("webhook timestamp is more than 5 minutes off")


def after_restart(api, env, sku, step):
    # Poll: the database and then Inventory's connection pool come back within seconds.
    deadline, last = time.time() + 120, None
    while time.time() < deadline:
        try:
            admin = api.call("POST", "/users/login", {"email": env["ADMIN_EMAIL"], "password": env["ADMIN_PASSWORD"]})["access_token"]
            item = api.call("GET", f"/inventory/{sku}", token=admin)
            adjusted = api.call("POST", f"/inventory/{sku}/adjust", {"delta": 1}, token=admin)
            assert item["qty"] == 10, f"{sku} qty after restart: {item['qty']} (expected 10)"
            assert adjusted["qty"] == 11, adjusted
            step(f"{sku} still has qty 10 after the restart (volume kept it); a write succeeded (qty 11)")
            return
        except AssertionError as e:  # a refused connection or a timeout too: send() answers them as a status
            if "expected 10" in str(e):
                raise
            last = e
            time.sleep(2)
    raise AssertionError(f"Inventory did not recover within 120 s: {last}")


def token_part(token, index):
    """A JWT's header (0) or claims (1), unverified: which key signed it, whose it is."""
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def key_id(token):
    return token_part(token, 0)["kid"]


class StampCache:
    """The security stamps Users keeps in Redis (database 0, auth:stamp:<user id>), reached with redis-cli: the deployment
    publishes no Redis port, so the command is run in its container."""

    def __init__(self, command, password):
        self.command, self.password = shlex.split(command), password

    def run(self, *arguments):
        result = subprocess.run([*self.command, "-n", "0", *arguments], capture_output=True, text=True, timeout=60,
                                env={**os.environ, "REDISCLI_AUTH": self.password})
        if result.returncode != 0:
            raise AssertionError(f"redis-cli {' '.join(arguments)}: exit {result.returncode}: {result.stderr.strip()[:300]}")
        return result.stdout.strip()

    def forget(self, user_id):
        """Whether Redis held the account's stamp, which it no longer does."""
        return self.run("DEL", f"auth:stamp:{user_id}") == "1"

    def holds(self, user_id):
        return self.run("EXISTS", f"auth:stamp:{user_id}") == "1"


def read_token(path):
    return open(path, encoding="utf-8").read().strip() if path and os.path.exists(path) else ""


def rotation_check(api, sku, token_file, new_key, keep_new_token, keys_removed, stamps, step):
    """One step of a key rotation: the token saved before it still works, and a new customer signs in and orders.

    A new account each time: Orders keeps an account's active state for 30 s, so only a new one makes it call
    Users (with its service key) for every check; the order's reservation calls Inventory (with it too)."""
    saved = read_token(token_file)
    run = secrets.token_hex(4)
    email, password = f"rotation-{run}@example.com", "Rotation-test-" + secrets.token_hex(8)
    api.call("POST", "/users/register", {"name": "Rotation Test", "email": email, "password": password}, expect=(200, 201))
    token = api.call("POST", "/users/login", {"email": email, "password": password})["access_token"]
    if not saved:
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(token)
        saved = token
        step(f"signed in {email} before the rotation (key id {key_id(token)[:12]}…), token kept")
    elif keys_removed:
        # The urgent rotation: every service that checks tokens, not only Users, must refuse both removed keys at once,
        # not when it next fetches Users' keys (Jwt:SigningKeysRefreshInterval).
        leaked = read_token(keys_removed)
        if key_id(token) in (key_id(saved), key_id(leaked)):
            raise AssertionError(f"a sign-in after the urgent rotation was still signed with a removed key ({key_id(token)})")
        for removed in (saved, leaked):
            for path in ("/users/me", "/orders/", f"/inventory/{sku}"):
                api.call("GET", path, token=removed, expect=(401,))
        step(f"both removed keys (key ids {key_id(saved)[:12]}…, {key_id(leaked)[:12]}…) are refused (401) by Users, Orders "
             f"and Inventory; a new sign-in {email} has key id {key_id(token)[:12]}…")
    else:
        if new_key and key_id(token) == key_id(saved):
            raise AssertionError(f"a sign-in after the JWT rotation was still signed with the old key ({key_id(token)})")
        api.call("GET", "/users/me", token=saved)
        api.call("GET", "/orders/", token=saved)
        step(f"the token signed before the rotation (key id {key_id(saved)[:12]}…) still works at /users/me and /orders/; "
             f"a new sign-in {email} has key id {key_id(token)[:12]}…")
        if keep_new_token:
            with open(keep_new_token, "w", encoding="utf-8") as f:
                f.write(token)
    # The new token at Inventory and Orders before either has seen its key: each must fetch Users' keys and accept it.
    user = token_part(token, 1)["sub"]
    if stamps and not stamps.forget(user):
        raise AssertionError(f"Redis held no security stamp for {email} (user {user}) after the sign-in: Inventory would not need to ask Users")
    api.call("GET", f"/inventory/{sku}", token=token)
    if stamps:
        # Inventory refills Redis only with a stamp Users answered, before it answers the read.
        if not stamps.holds(user):
            raise AssertionError(f"Inventory answered {email}'s read without putting the stamp back in Redis: it did not get it from Users")
        step(f"Inventory checked {email}'s token with Users (its service key): the stamp deleted from Redis was back after the read")
    order = api.call("POST", "/orders/", {"items": [{"sku": sku, "qty": 1}]}, token=token, expect=(200, 201),
                     headers={"Idempotency-Key": "rotation-" + run})
    assert order["status"] == "pending", order
    step(f"{email} read {sku} and placed order {order['id']} (Orders called Users and Inventory with its service key)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--hook-bind", required=True, help="address to receive webhooks on, reachable from the containers")
    # Orders accepts only ports 80 and 443 outside Development (Webhooks:AllowedPorts).
    parser.add_argument("--hook-port", type=int, default=80, help="port to receive webhooks on (0: any free one)")
    parser.add_argument("--cafile", help="the CA (a self-signed certificate) to verify HTTPS against")
    parser.add_argument("--after-restart", metavar="SKU", help="only check that SKU survived a database restart")
    parser.add_argument("--rotation", metavar="SKU", help="only one step of a key rotation: the saved token works, a new customer orders SKU")
    parser.add_argument("--token-file", help="with --rotation: the token signed before the rotation (written by the first step)")
    parser.add_argument("--new-key", action="store_true", help="with --rotation: the JWT signing key has changed since the token was saved")
    parser.add_argument("--keep-new-token", metavar="G", help="with --new-key: keep the new customer's token (the current key's) in G")
    parser.add_argument("--keys-removed", metavar="G", help="with --rotation: the current JWT key (G's token's) was replaced and the "
                        "previous one removed; Users, Orders and Inventory must refuse both saved tokens")
    parser.add_argument("--redis-cli", metavar="CMD", help="with --rotation: the command that runs redis-cli against the deployment's "
                        "Redis (e.g. 'docker exec -e REDISCLI_AUTH ID redis-cli'); the new customer's stamp is deleted before Inventory reads it")
    args = parser.parse_args()
    env = read_env(args.env)
    api = Client(args.base, args.cafile)
    start = time.monotonic()

    def step(text):
        print(f"  [{time.monotonic() - start:6.2f}s] {text}", flush=True)

    if args.rotation:
        stamps = StampCache(args.redis_cli, env["REDIS_PASSWORD"]) if args.redis_cli else None
        rotation_check(api, args.rotation, args.token_file, args.new_key, args.keep_new_token, args.keys_removed, stamps, step)
        return

    if args.after_restart:
        after_restart(api, env, args.after_restart, step)
        return

    server = http.server.ThreadingHTTPServer((args.hook_bind, args.hook_port), Hooks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    run = secrets.token_hex(4)
    hook_path = f"/hook/{run}"
    hook_url = f"http://{args.hook_bind}:{server.server_address[1]}{hook_path}"
    email, password = f"deploy-{run}@example.com", "Deploy-test-" + secrets.token_hex(8)
    api.call("POST", "/users/register", {"name": "Deploy Test", "email": email, "password": password}, expect=(200, 201))
    customer = api.call("POST", "/users/login", {"email": email, "password": password})["access_token"]
    me = api.call("GET", "/users/me", token=customer)
    assert me["email"] == email, me
    step(f"registered and signed in {email} (ES256 access token {customer.split('.')[0][:12]}…)")

    admin = api.call("POST", "/users/login", {"email": env["ADMIN_EMAIL"], "password": env["ADMIN_PASSWORD"]})["access_token"]
    sku = f"DEPLOY-{run}".upper()
    item = api.call("POST", "/inventory/", {"sku": sku, "name": "Deploy test item", "price": 12.5, "qty": 10}, token=admin, expect=(200, 201))
    assert item["qty"] == 10, item
    step(f"admin signed in and created {sku} (qty 10)")

    # The Shop generates the signing secret and shows it once, in this answer.
    subscription = api.call("POST", "/orders/webhooks/", {"url": hook_url, "events": ["order.created", "order.status_changed"]},
                            token=admin, expect=(200, 201))
    secret = subscription["secret"]
    assert secret, subscription
    step(f"admin subscribed a webhook at {hook_url} (generated secret {secret[:10]}…)")

    order = api.call("POST", "/orders/", {"items": [{"sku": sku, "qty": 3}]}, token=customer, expect=(200, 201),
                     headers={"Idempotency-Key": "deploy-" + run})
    assert order["status"] == "pending" and float(order["total"]) == 37.5, order
    stock = api.call("GET", f"/inventory/{sku}", token=customer)["qty"]
    assert stock == 7, f"stock after ordering 3 of 10: {stock}"
    step(f"order {order['id']} placed, total {order['total']}, stock 10 -> {stock}")

    headers, body = wait_for_hook(hook_path, "order.created", order["id"])
    verify_signature(secret, headers, body)
    step(f"webhook order.created delivered, signature verified ({headers['X-Shop-Signature'][:24]}…)")

    cancelled = api.call("PATCH", f"/orders/{order['id']}", {"status": "cancelled"}, token=customer)
    assert cancelled["status"] == "cancelled", cancelled
    stock = api.call("GET", f"/inventory/{sku}", token=customer)["qty"]
    assert stock == 10, f"stock after cancelling: {stock}"
    headers, body = wait_for_hook(hook_path, "order.status_changed", order["id"])
    verify_signature(secret, headers, body)
    step(f"order cancelled, stock restored to {stock}, order.status_changed webhook verified")

    index = api.call("GET", "/", headers={"Accept": "text/html"})
    assert "<div id=\"root\">" in index or "id=\"root\"" in index, index[:300]
    step("the SPA's index.html is served through the gateway")
    server.shutdown()
    # For the persistence check after a database restart.
    print(f"JOURNEY_RESULT sku={sku} order={order['id']} email={email}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"JOURNEY FAILED: {e}", file=sys.stderr)
        sys.exit(1)
