"""`flask --app app auth-link`: the dashboard's modal from a terminal, through the same policy and client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from responses import matchers

from tests.e2e_processes import ROOT
from tests.helpers import API, API_KEY, account, session_answer


def run(app, *args):
    return app.test_cli_runner().invoke(args=["auth-link", *args])


def test_prints_the_link_and_when_it_stops_working(app, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok1"),
                  match=[matchers.json_params_matcher({
                      "origin_owner_id": "cust-42", "origin_owner_name": "Globex", "origin_username": "hr@globex.test",
                      "provider": "hibob", "expires_in": 432000, "metadata": {"source": "stackone-connect-backend"},
                      "type": "production"})])
    result = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--username", "hr@globex.test",
                 "--provider", "hibob")
    assert result.exit_code == 0, result.output
    assert "https://app.stackone.com/embedded/integrations?token=tok1" in result.output
    assert "5 days" in result.output and "Works until" in result.output


def test_json_output(app, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok2"),
                  match=[matchers.json_params_matcher({
                      "origin_owner_id": "c1", "origin_owner_name": "C One", "categories": ["ats"],
                      "expires_in": 86400, "metadata": {"source": "stackone-connect-backend"}, "type": "production"})])
    result = run(app, "--owner-id", "c1", "--owner-name", "C One", "--category", "ats", "--expires-in", "86400",
                 "--json")
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert (answer["token"], answer["action"], answer["expiresIn"]) == ("tok2", "create", 86400)
    assert answer["url"].endswith("?token=tok2")


@pytest.mark.parametrize(("args", "message"), [
    (["--owner-name", "Globex"], "--owner-id and --owner-name are both required"),
    (["--owner-id", "c1", "--owner-name", "  "], "--owner-id and --owner-name are both required"),
    (["--owner-id", "c1", "--owner-name", "C", "--expires-in", "abc"], "--expires-in must be a whole number"),
    (["--owner-id", "c1", "--owner-name", "C", "--expires-in", "605000"], "--expires-in: Must be"),
    (["--owner-id", "c1", "--owner-name", "C", "--category", "payroll"], "--category:"),
    (["--owner-id", "c1", "--owner-name", "C", "--provider", "workday"], "provider_not_enabled"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(app, stackone, args, message):
    result = run(app, *args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert "expiresIn" not in lines[0] and "your organisation" not in lines[0]  # the command's words, not the API's
    assert "Traceback" not in result.output and len(stackone.calls) == 0


def test_stackone_failure_is_one_line(app, stackone):
    stackone.post(f"{API}/connect_sessions", status=401, json={"statusCode": 401, "message": "Unauthorized"})
    result = run(app, "--owner-id", "c1", "--owner-name", "C")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: upstream_auth_failed: The service is misconfigured; the operator has been told"]


def test_relinking_a_named_account(app, stackone):
    stackone.get(f"{API}/accounts/acc-5", json=account("acc-5", owner="c1"))
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok3"),
                  match=[matchers.json_params_matcher({
                      "origin_owner_id": "c1", "origin_owner_name": "C One", "provider": "bamboohr",
                      "account_id": "acc-5", "expires_in": 432000,
                      "metadata": {"source": "stackone-connect-backend"}, "type": "production"})])
    result = run(app, "--owner-id", "c1", "--owner-name", "C One", "--account-id", "acc-5", "--json")
    assert result.exit_code == 0, result.output
    assert (json.loads(result.output)["action"], json.loads(result.output)["accountId"]) == ("update", "acc-5")


def test_adding_another_with_a_label(app, stackone):
    stackone.get(f"{API}/accounts", json=[account("acc-5", owner="c1", label="EU")])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok4"),
                  match=[matchers.json_params_matcher({
                      "origin_owner_id": "c1", "origin_owner_name": "C One", "provider": "bamboohr", "label": "US",
                      "multiple": True, "expires_in": 432000, "metadata": {"source": "stackone-connect-backend"},
                      "type": "production"})])
    result = run(app, "--owner-id", "c1", "--owner-name", "C One", "--provider", "bamboohr", "--multiple",
                 "--label", "US", "--json")
    assert result.exit_code == 0, result.output and json.loads(result.output)["action"] == "multiple"


def test_ambiguity_tells_the_operator_what_to_do(app, stackone):
    stackone.get(f"{API}/accounts", json=[account("acc-5", owner="c1", label="EU"), account("acc-6", owner="c1")])
    result = run(app, "--owner-id", "c1", "--owner-name", "C One", "--provider", "bamboohr")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: ambiguous_account")
    assert "acc-5 (EU)" in lines[0] and "acc-6 (no label)" in lines[0]
    assert "--account-id" in lines[0] and "--multiple --label" in lines[0]


def flask_command(*args, **env):
    """`flask --app app ...` as an operator runs it, with only the given environment."""
    return subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "app", *args], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60)


def test_help_lists_the_command_without_any_configuration():
    result = flask_command("--help")
    assert result.returncode == 0 and "auth-link" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_command_needs_no_owner_auth_and_reports_missing_config_in_one_line(tmp_path):
    result = flask_command("auth-link", "--owner-id", "c1", "--owner-name", "C", STATE_DIR=str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: STACKONE_API_KEY is not set: the service cannot call StackOne without it"]
    # With a key and no OWNER_AUTH it gets as far as StackOne (here: nothing listens on the port).
    result = flask_command("auth-link", "--owner-id", "c1", "--owner-name", "C", STACKONE_API_KEY=API_KEY,
                           STACKONE_API_URL="http://127.0.0.1:9", STACKONE_TIMEOUT="1", STATE_DIR=str(tmp_path))
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.returncode == 1
    assert errors == ["Error: upstream_unreachable: StackOne could not be reached; try again"]
    assert "Traceback" not in result.stderr  # (the client's retry warnings come before it)


@pytest.mark.parametrize("args", [["--bogus"], ["--expires-in"], ["--owner-id"]])
def test_a_mistyped_option_is_one_line_and_exit_1(args, tmp_path):
    result = flask_command("auth-link", *args, STACKONE_API_KEY=API_KEY, STATE_DIR=str(tmp_path))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: ")


def test_the_cli_takes_the_same_caps_and_an_operator_may_pass_them_on_the_record(env, stackone, caplog):
    from app import create_app

    app = create_app({**env, "ACCOUNT_LIMITS": "hibob=1"})
    stackone.get(f"{API}/accounts", json=[account("h1", provider="hibob", owner="cust-42")])
    refused = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--provider", "hibob", "--multiple",
                  "--label", "EU")
    assert refused.exit_code == 1 and "account_limit" in refused.output and "--ignore-limits" in refused.output
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    caplog.set_level("INFO", logger="audit")
    passed = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--provider", "hibob", "--multiple",
                 "--label", "EU", "--ignore-limits")
    assert passed.exit_code == 0, passed.output
    minted = [r for r in caplog.records if r.name == "audit" and r.getMessage() == "auth_link_minted"]
    assert len(minted) == 1 and minted[0].fields["limits_ignored"] is True


def test_a_refusal_names_the_owner_and_the_options_not_the_apis_words(app, stackone):
    stackone.get(f"{API}/accounts", json=[account("a1", owner="cust-42", label="EU"),
                                          account("a2", owner="cust-42", label="US")])
    result = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--provider", "bamboohr")
    assert result.exit_code == 1 and "Owner cust-42 has 2 'bamboohr' accounts" in result.output
    assert "--account-id" in result.output and "accountId" not in result.output
    assert "organisation" not in result.output


def test_the_operator_command_decides_from_stackone_not_from_the_account_cache(env, stackone):
    from app import create_app

    # Webhook secrets set: the HTTP routes cache an owner's accounts for 60 s.
    app = create_app({**env, "STACKONE_WEBHOOK_SECRETS": "whsec_cli_0123456789"})
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    first = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--provider", "hibob", "--json")
    assert json.loads(first.output)["action"] == "create"
    # The owner connects; the webhook has not arrived yet. The command still sees the account.
    stackone.replace("GET", f"{API}/accounts", json=[account("h1", provider="hibob", owner="cust-42")])
    second = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--provider", "hibob", "--json")
    assert (json.loads(second.output)["action"], json.loads(second.output)["accountId"]) == ("update", "h1")
