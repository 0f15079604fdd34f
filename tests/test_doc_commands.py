"""Every command in docs/ and README.md, run as pasted from a folder of its own (as systemd runs a service).

The docs name the installed project /srv/stackone-connect: here that is this checkout, the service's environment file
is one written by the test, `sudo -u stackone-connect` is the test's own user, and the sandbox and gunicorn the docs
start listen on free ports. What cannot run in a test (systemctl, useradd) is listed with the reason. The list is tied
to the docs: a command added to, changed in or removed from a page fails the first test until the list says how it
runs, so a doc change that breaks a command from another folder fails the second.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess

import pytest

from tests.e2e_processes import ROOT, clean_environment, free_port, wait_until_up
from tests.externals import require
from tests.helpers import JWT_SECRET, login

INSTALLED = "/srv/stackone-connect"
ENV_FILE = "/etc/stackone-connect/environment"
AS_SERVICE_USER = "sudo -u stackone-connect "
UNIT = ROOT / "deploy" / "systemd" / "stackone-connect.service"

START_LINE = f"{INSTALLED}/.venv/bin/gunicorn -c {INSTALLED}/gunicorn.conf.py wsgi:app"
OPERATOR = f"{AS_SERVICE_USER}{INSTALLED}/.venv/bin/flask --app {INSTALLED}/app.py -e {ENV_FILE}"
SANDBOX_LINE = ("SANDBOX_API_KEY=v1.sandbox.anything SANDBOX_WEBHOOK_URL=http://127.0.0.1:8000/stackone_webhooks "
                f"SANDBOX_WEBHOOK_SECRET=whsec_local {INSTALLED}/.venv/bin/python {INSTALLED}/sandbox --port 8001")
SCREENSHOTS = f"{INSTALLED}/.venv/bin/python {INSTALLED}/docs/take_screenshots.py"
CURL = ("curl -s -X POST http://127.0.0.1:8000/stackone_connect_sessions -H 'Authorization: Bearer <the demo token it "
        "printed>' -H 'Content-Type: application/json' -d '{\"provider\": \"bamboohr\"}'")

SERVE = "serve"  # started in the background, in this order, for the commands after it
RUN = "run"  # must exit 0 without a traceback
MACHINE = "changes the machine (a user, /etc, systemd): production.md's install steps, as root"
UNDER_SYSTEMD = "needs the unit installed under a running systemd (the unit is verified below)"

# Every command the docs hold, in the order they run here; anything else is the reason it does not run in a test.
COMMANDS: dict[str, str] = {
    SANDBOX_LINE: SERVE,
    START_LINE: SERVE,
    CURL: RUN,
    f"{OPERATOR} --help": RUN,
    f'{OPERATOR} auth-link --owner-id cust-42 --owner-name "Globex" [--username hr@globex.test] [--category hris] '
    '[--provider hibob] [--account-id 4535…] [--multiple --label "EU office"] [--expires-in 604800] [--json]': RUN,
    f"{OPERATOR} auth-links --owner-id cust-42 [--json]":
        "needs AUTH_LINK_BASE_URL in the environment file: tests/test_cli_links.py runs it with one",
    f"{OPERATOR} auth-link-withdraw --owner-id cust-42 lnk_VjZf0m82GOXv":
        "needs AUTH_LINK_BASE_URL and a link made by auth-link: tests/test_cli_links.py runs it with both",
    f"{OPERATOR} offboard --owner-id cust-42 --dry-run": RUN,
    f"{OPERATOR} offboard --owner-id cust-42": RUN,
    f"{OPERATOR} deliver-events": RUN,
    f"{OPERATOR} resume-events": RUN,
    f"{OPERATOR} reconcile": RUN,
    SCREENSHOTS: "needs `make run`'s demo and rewrites docs/screenshots/: its interpreter and path are checked below",
    f"make -C {INSTALLED} run": "the demo, which runs until Ctrl-C: tests/test_devserver.py runs it",
    f"make -C {INSTALLED} test": "this suite itself",
    f"make -C {INSTALLED} test-fast": "this suite's tests that start no process, run from within it",
    f"make -C {INSTALLED} bench": "the benches, about half an hour on an otherwise idle machine: not a test",
    f"{INSTALLED}/.venv/bin/python {INSTALLED}/bench/scale.py": "a bench of minutes (`make bench` runs it)",
    f"{INSTALLED}/.venv/bin/python {INSTALLED}/bench/reconcile_pass.py": "a bench of minutes (`make bench` runs it)",
    f'BENCH_INSTR_ONLY="every feature" {INSTALLED}/.venv/bin/python {INSTALLED}/bench/instructions.py':
        "a bench of minutes under valgrind (`make bench` runs every contender)",
    f"sudo make -C {INSTALLED} install": "installs requirements.txt into .venv, which `make test` built for this",
    "sudo useradd --system --no-create-home --shell /usr/sbin/nologin stackone-connect": MACHINE,
    "sudo install -d -m 0750 -g stackone-connect /etc/stackone-connect": MACHINE,
    f"sudo install -m 0640 -g stackone-connect /dev/null {ENV_FILE}": MACHINE,
    f"sudo cp {INSTALLED}/deploy/systemd/stackone-connect.service /etc/systemd/system/": MACHINE,
    "sudo systemctl daemon-reload": MACHINE,
    "sudo systemctl enable --now stackone-connect": MACHINE,
    "systemctl reload stackone-connect": UNDER_SYSTEMD,
    "journalctl -u stackone-connect": UNDER_SYSTEMD,
    f"{INSTALLED}/.venv/bin/schemathesis run https://connect.example.com/openapi.json":
        "fuzzes your deployment at its address: tests/test_contract_fuzz.py runs schemathesis against gunicorn",
    "gunicorn seed_example:app": "names how bench/overhead.py runs StackOne's example (bench/), not a command to paste",
}

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# A code span in prose is a command when it starts with a program (after any VAR=value assignments).
PROGRAMS = (f"{INSTALLED}/", "sudo ", "flask ", "gunicorn ", "python", ".venv/", "pip ", "curl ", "make -C ",
            "systemctl ", "journalctl ", "schemathesis ")
ASSIGNMENTS = re.compile(r"^(?:[A-Z_]+=\S*\s+)*")


def documented_commands() -> dict[str, str]:
    """Each command of the docs' shell blocks (continuations joined, comments dropped) and prose, and its page."""
    found: dict[str, str] = {}
    for page in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        text = page.read_text()
        for block in FENCE.finditer(text):
            if block.group(1) in ("sh", "bash", "shell"):
                for line in re.sub(r"\\\n\s*", "", block.group(2)).splitlines():
                    if command := re.sub(r"\s+#\s.*$", "", line).strip():
                        found.setdefault(command, page.name)
        for span in re.findall(r"`([^`]+)`", FENCE.sub("", text)):
            span = " ".join(span.split())
            if ASSIGNMENTS.sub("", span).startswith(PROGRAMS):
                found.setdefault(span, page.name)
    return found


def test_the_docs_hold_exactly_the_listed_commands():
    documented = documented_commands()
    unlisted = {command: page for command, page in documented.items() if command not in COMMANDS}
    assert not unlisted, f"commands in the docs that this test neither runs nor exempts: {unlisted}"
    gone = [command for command in COMMANDS if command not in documented]
    assert not gone, f"commands listed here that no page holds any more: {gone}"


@pytest.fixture
def here(tmp_path):
    """This checkout as the docs' installed project: free ports, and the service's environment file."""
    sandbox, service = free_port(), free_port()
    settings = {"STACKONE_API_KEY": "v1.sandbox.anything", "STACKONE_API_URL": f"http://127.0.0.1:{sandbox}",
                "STACKONE_HUB_URL": f"http://127.0.0.1:{sandbox}/embedded/integrations", "OWNER_AUTH": "jwt",
                "OWNER_JWT_SECRET": JWT_SECRET, "STATE_DIR": str(tmp_path / "state"), "BIND": f"127.0.0.1:{service}",
                "WEB_CONCURRENCY": "1", "LOG_FORMAT": "text"}
    env_file = tmp_path / "environment"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    replacements = [(AS_SERVICE_USER, ""), (ENV_FILE, str(env_file)), (INSTALLED, str(ROOT)),
                    ("127.0.0.1:8000", f"127.0.0.1:{service}"), ("--port 8001", f"--port {sandbox}"),
                    ("<the demo token it printed>", login())]
    return {"settings": settings, "cwd": elsewhere, "replacements": replacements, "sandbox": sandbox,
            "service": service, "logs": tmp_path}


def as_here(command: str, here) -> str:
    """The command with the docs' paths, user and ports made this test's, and a synopsis's [optional parts] left out."""
    for documented, actual in here["replacements"]:
        command = command.replace(documented, actual)
    return re.sub(r" \[[^\]]*\]", "", command)


def test_every_documented_command_works_from_another_folder(here):
    # Only the unit's environment file: nothing from the shell that runs the tests.
    env = {**clean_environment(), **here["settings"]}
    servers: list[subprocess.Popen] = []
    try:
        for command, how in COMMANDS.items():
            if how == SERVE:
                servers.append(serve(as_here(command, here), env, here))
            elif how == RUN:
                # The operator's commands see only what their -e file says; curl needs nothing.
                done = subprocess.run(["bash", "-c", as_here(command, here)], cwd=here["cwd"], env=clean_environment(),
                                      capture_output=True, text=True, timeout=60)
                output = done.stdout + done.stderr
                assert done.returncode == 0 and "Traceback" not in output, f"{command}\n{output}"
                if command == CURL:
                    assert json.loads(done.stdout)["action"] == "create", done.stdout
    finally:
        for server in reversed(servers):
            stop(server)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (bash and what it started), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def serve(command: str, env: dict[str, str], here) -> subprocess.Popen:
    """Start a documented server in a process group of its own and wait until it answers."""
    log = here["logs"] / f"server-{len(list(here['logs'].glob('server-*')))}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(["bash", "-c", command], cwd=here["cwd"], env=env, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    port = here["sandbox"] if "/sandbox " in command else here["service"]
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    except RuntimeError:
        stop(process)
        pytest.fail(f"{command}\n{log.read_text()}")
    return process


def test_the_screenshot_script_is_documented_with_an_interpreter_that_has_playwright(here):
    interpreter, script = as_here(SCREENSHOTS, here).split()
    assert os.path.isfile(script)
    done = subprocess.run([interpreter, "-c", "import playwright.sync_api"], cwd=here["cwd"], env=clean_environment(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_systemd_unit_runs_the_documented_start_line_and_verifies(tmp_path):
    analyze = require("systemd-analyze", "apt-get install systemd")
    unit = UNIT.read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert settings["ExecStart"] == START_LINE
    assert settings["WorkingDirectory"] == INSTALLED and settings["EnvironmentFile"] == ENV_FILE
    assert settings["KillMode"] == "mixed" and settings["Restart"] == "on-failure"
    # systemd-analyze checks that ExecStart's program exists: the unit as installed in this checkout.
    rendered = tmp_path / UNIT.name
    rendered.write_text(unit.replace(INSTALLED, str(ROOT)))
    verified = subprocess.run([analyze, "verify", str(rendered)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
