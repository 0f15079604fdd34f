"""`flask --app app auth-link`: the dashboard's modal from a terminal, through the same policy and client."""

from __future__ import annotations

import json

import pytest
from responses import matchers

from tests.helpers import API, session_answer


def run(app, *args):
    return app.test_cli_runner().invoke(args=["auth-link", *args])


def test_prints_the_link_and_when_it_stops_working(app, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok1"),
                  match=[matchers.json_params_matcher({
                      "origin_owner_id": "cust-42", "origin_owner_name": "Globex", "origin_username": "hr@globex.test",
                      "provider": "hibob", "expires_in": 432000, "metadata": {"source": "stackone-connect-backend"}})])
    result = run(app, "--owner-id", "cust-42", "--owner-name", "Globex", "--username", "hr@globex.test",
                 "--provider", "hibob")
    assert result.exit_code == 0, result.output
    assert "https://app.stackone.com/embedded/integrations?token=tok1" in result.output
    assert "5 days" in result.output and "Works until" in result.output


def test_json_output(app, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok2"),
                  match=[matchers.json_params_matcher({
                      "origin_owner_id": "c1", "origin_owner_name": "C One", "categories": ["ats"],
                      "expires_in": 86400, "metadata": {"source": "stackone-connect-backend"}})])
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
    (["--owner-id", "c1", "--owner-name", "C", "--expires-in", "605000"], "expiresIn:"),
    (["--owner-id", "c1", "--owner-name", "C", "--category", "payroll"], "category:"),
    (["--owner-id", "c1", "--owner-name", "C", "--provider", "workday"], "provider_not_enabled"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(app, stackone, args, message):
    result = run(app, *args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert "Traceback" not in result.output and len(stackone.calls) == 0


def test_stackone_failure_is_one_line(app, stackone):
    stackone.post(f"{API}/connect_sessions", status=401, json={"statusCode": 401, "message": "Unauthorized"})
    result = run(app, "--owner-id", "c1", "--owner-name", "C")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: upstream_auth_failed: The service is misconfigured; the operator has been told"]
