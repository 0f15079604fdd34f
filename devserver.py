"""`make run`: gunicorn against StackOne when STACKONE_API_KEY is set, else against the bundled sandbox (demo)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jwt

HERE = os.path.dirname(os.path.abspath(__file__))
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", os.path.join(HERE, "gunicorn.conf.py"), "wsgi:app"]


def wait_for_port(port: int, seconds: float = 15) -> bool:
    """True once something listens on 127.0.0.1:port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def demo_environment(port: int, sandbox_port: int) -> tuple[dict[str, str], dict[str, str], str]:
    """Fresh random secrets for the sandbox and the service, and a demo login token."""
    api_key, jwt_secret, webhook_secret = (secrets.token_urlsafe(32) for _ in range(3))
    sandbox_env = {**os.environ, "SANDBOX_API_KEY": "v1.sandbox." + api_key, "SANDBOX_WEBHOOK_SECRET": webhook_secret,
                   "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{port}/stackone_webhooks"}
    service_env = {
        **os.environ,
        "STACKONE_API_KEY": "v1.sandbox." + api_key,
        "STACKONE_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "STACKONE_HUB_URL": f"http://127.0.0.1:{sandbox_port}/embedded/integrations",
        "STACKONE_WEBHOOK_SECRETS": webhook_secret,
        "OWNER_AUTH": "jwt",
        "OWNER_JWT_SECRET": jwt_secret,
        "STATE_DIR": tempfile.mkdtemp(prefix="stackone-connect-demo-"),
        "PORT": str(port),
    }
    login = jwt.encode({"org_id": "demo-org", "org_name": "Demo Org", "email": "demo@example.com",
                        "exp": int(time.time()) + 12 * 3600}, jwt_secret, algorithm="HS256")
    return sandbox_env, service_env, login


def banner(port: int, sandbox_port: int, login: str) -> str:
    """The loud demo notice and a curl that works as pasted."""
    line = "=" * 78
    return f"""
{line}
  DEMO MODE: STACKONE_API_KEY is not set, so this is NOT talking to StackOne.
  StackOne is played by the local sandbox on http://127.0.0.1:{sandbox_port}, and every
  caller is the demo organisation "Demo Org" (org_id demo-org) via the token below.
  Set STACKONE_API_KEY and OWNER_AUTH (see README) to run for real.
{line}
Try it (valid for 12 hours):

curl -s -X POST http://127.0.0.1:{port}/stackone_connect_sessions \\
  -H 'Authorization: Bearer {login}' \\
  -H 'Content-Type: application/json' \\
  -d '{{"provider": "bamboohr"}}'

Open the "authLinkUrl" it returns and press Connect; run the curl again and the
action turns from "create" to "update". Ctrl-C stops both servers.
{line}
"""


def main() -> int:
    """Start the service (and the sandbox in demo mode) and wait until interrupted."""
    if os.environ.get("STACKONE_API_KEY"):
        os.chdir(HERE)
        os.execv(sys.executable, GUNICORN)
    port = int(os.environ.get("PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8001"))
    for p in (port, sandbox_port):
        if wait_for_port(p, 0):
            print(f"make run: port {p} is already in use; set PORT / SANDBOX_PORT to free ones", file=sys.stderr)
            return 1
    sandbox_env, service_env, login = demo_environment(port, sandbox_port)
    children = [subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(sandbox_port)], cwd=HERE,
                                 env=sandbox_env)]
    try:
        if not wait_for_port(sandbox_port):
            print("make run: the sandbox did not start", file=sys.stderr)
            return 1
        children.append(subprocess.Popen(GUNICORN, cwd=HERE, env=service_env))
        if not wait_for_port(port):
            print("make run: gunicorn did not start", file=sys.stderr)
            return 1
        print(banner(port, sandbox_port, login), flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
