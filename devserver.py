"""`make run`: gunicorn against StackOne when STACKONE_API_KEY is set, else against the bundled sandbox (demo)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", os.path.join(HERE, "gunicorn.conf.py"), "wsgi:app"]


def port_in_use(port: int) -> bool:
    """True if something already listens on 127.0.0.1:port."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, seconds: float = 15) -> bool:
    """True once something listens on 127.0.0.1:port (tried at least once)."""
    deadline = time.monotonic() + seconds
    while True:
        if port_in_use(port):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def legacy_cookie(secret_key: str, session: dict) -> str:
    """A session cookie exactly as a legacy Flask app with this SECRET_KEY would set it."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    legacy = Flask("legacy-demo")
    legacy.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(legacy).dumps(session)


DEMO_OWNER = {"org_id": "demo-org", "org_name": "Demo Org", "email": "demo@example.com"}


def demo_environment(port: int, sandbox_port: int, mode: str = "jwt", page_port: int = 5000
                     ) -> tuple[dict[str, str], dict[str, str], dict[str, str], str]:
    """Fresh random secrets for the sandbox, the service and the demo page, and a demo login (JWT or cookie)."""
    api_key, jwt_secret, webhook_secret = (secrets.token_urlsafe(32) for _ in range(3))
    sandbox_env = {**os.environ, "SANDBOX_API_KEY": "v1.sandbox." + api_key, "SANDBOX_WEBHOOK_SECRET": webhook_secret,
                   "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{port}/stackone_webhooks"}
    service_env = {
        **os.environ,
        "STACKONE_API_KEY": "v1.sandbox." + api_key,
        "STACKONE_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "STACKONE_HUB_URL": f"http://127.0.0.1:{sandbox_port}/embedded/integrations",
        "STACKONE_WEBHOOK_SECRETS": webhook_secret,
        "STATE_DIR": tempfile.mkdtemp(prefix="stackone-connect-demo-"),
        "PORT": str(port),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or "text",  # a person reads these; a fleet gets JSON
        # The demo page (examples/legacy_flask_app) is a sibling origin: docs/browser.md's second layout.
        "CORS_ALLOWED_ORIGINS": f"http://127.0.0.1:{page_port}",
        # Auth Links of the demo's own (docs/api.md): on this service's origin, minted when clicked, withdrawable.
        "AUTH_LINK_BASE_URL": os.environ.get("AUTH_LINK_BASE_URL") or f"http://127.0.0.1:{port}",
    }
    # The example app signs its own session with LEGACY_SECRET_KEY, and (bearer mode) the page's JWTs.
    page_env = {**os.environ, "LEGACY_SECRET_KEY": jwt_secret, "OWNER_JWT_SECRET": jwt_secret,
                "EXAMPLE_SERVICE_URL": f"http://127.0.0.1:{port}", "EXAMPLE_DEMO_LOGIN": "1",
                "EXAMPLE_AUTH": "cookie" if mode == "flask-session" else "bearer"}
    if mode == "flask-session":
        # The primary users' mode: the legacy app's own session cookie, signed with its SECRET_KEY.
        service_env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY=jwt_secret)
        service_env.pop("OWNER_JWT_SECRET", None)
        return sandbox_env, service_env, page_env, legacy_cookie(jwt_secret, DEMO_OWNER)
    service_env.update(OWNER_AUTH="jwt", OWNER_JWT_SECRET=jwt_secret)
    service_env.pop("LEGACY_SECRET_KEY", None)
    login = jwt.encode({**DEMO_OWNER, "exp": int(time.time()) + 12 * 3600}, jwt_secret, algorithm="HS256")
    return sandbox_env, service_env, page_env, login


def banner(port: int, sandbox_port: int, login: str, mode: str = "jwt", page_port: int = 5000) -> str:
    """The loud demo notice and a curl that works as pasted."""
    line = "=" * 78
    if mode == "flask-session":
        who = "the legacy session cookie below (as a legacy Flask app's login sets it; valid for 31 days)"
        credential = f"-b 'session={login}'"
    else:
        who = "the token below (valid for 12 hours)"
        credential = f"-H 'Authorization: Bearer {login}'"
    return f"""
{line}
  DEMO MODE: STACKONE_API_KEY is not set, so this is NOT talking to StackOne.
  StackOne is played by the local sandbox on http://127.0.0.1:{sandbox_port}, and every
  caller is the demo organisation "Demo Org" (org_id demo-org), logged in with
  {who}.
  Set STACKONE_API_KEY and OWNER_AUTH (see docs/configuration.md) to run for real.
{line}
Try it:

curl -s -X POST http://127.0.0.1:{port}/stackone_connect_sessions \\
  {credential} \\
  -H 'Content-Type: application/json' \\
  -d '{{"provider": "bamboohr"}}'

Open the "authLinkUrl" it returns and press Connect; run the curl again and the
action turns from "create" to "update".

The integrations page (StackOne's hub, played by the sandbox; you are signed in as Demo Org):

    http://127.0.0.1:{page_port}/demo-login

Ctrl-C stops everything.
{line}
"""


def main() -> int:
    """Start the service (and the sandbox in demo mode) and wait until interrupted."""
    # gunicorn reads WEB_CONCURRENCY while importing itself, where a mistyped one is a traceback: the settings
    # module checks it (and the other GUNICORN_* numbers) first, and refuses in one line naming it.
    import serving.gunicorn_settings  # noqa: F401

    if os.environ.get("STACKONE_API_KEY"):
        print("make run: STACKONE_API_KEY is set, so the demo (local sandbox, demo login) is skipped: gunicorn "
              f"runs against {os.environ.get('STACKONE_API_URL') or 'https://api.stackone.com'} with your "
              "configuration", file=sys.stderr, flush=True)
        os.chdir(HERE)
        os.execv(sys.executable, GUNICORN)
    mode = os.environ.get("OWNER_AUTH", "").strip() or "jwt"
    if mode not in ("jwt", "flask-session"):
        print(f"make run: OWNER_AUTH must be jwt or flask-session for the demo (got {mode!r})", file=sys.stderr)
        return 1
    port = int(os.environ.get("PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8001"))
    page_port = int(os.environ.get("DEMO_PAGE_PORT", "5000"))
    for p in (port, sandbox_port, page_port):
        if port_in_use(p):
            print(f"make run: port {p} is already in use; set PORT / SANDBOX_PORT / DEMO_PAGE_PORT to free ones",
                  file=sys.stderr)
            return 1
    sandbox_env, service_env, page_env, login = demo_environment(port, sandbox_port, mode, page_port)
    # Each child in a session of its own: Ctrl-C reaches this process only, which stops them with SIGTERM (gunicorn's
    # graceful stop). Sent to gunicorn's workers directly, SIGINT ends each with a gevent traceback.
    children = [subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(sandbox_port)], cwd=HERE,
                                 env=sandbox_env, start_new_session=True)]
    try:
        if not wait_for_port(sandbox_port):
            print("make run: the sandbox did not start", file=sys.stderr)
            return 1
        children.append(subprocess.Popen(GUNICORN, cwd=HERE, env=service_env, start_new_session=True))
        children.append(subprocess.Popen([sys.executable, "-m", "examples.legacy_flask_app", "--port",
                                          str(page_port)], cwd=HERE, env=page_env, start_new_session=True))
        for p, what in ((port, "gunicorn"), (page_port, "the demo page")):
            if not wait_for_port(p):
                print(f"make run: {what} did not start", file=sys.stderr)
                return 1
        print(banner(port, sandbox_port, login, mode, page_port), flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        print("\nmake run: stopping", file=sys.stderr, flush=True)
        return 0
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        # The demo's state (sessions, caps, events of a throwaway organisation) is not kept from one run to the next.
        shutil.rmtree(service_env["STATE_DIR"], ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
