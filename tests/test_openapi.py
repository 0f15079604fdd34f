"""GET /openapi.json: a valid OpenAPI 3.1 document, made from the schemas the routes use, covering every route."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from app import create_app
from tests.helpers import API, account, bearer, session_answer


@pytest.fixture
def document(client):
    return client.get("/openapi.json").get_json()


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"


def test_every_route_is_described(app, document):
    served = {rule.rule.replace("<account_id>", "{account_id}") for rule in app.url_map.iter_rules()
              if rule.endpoint not in ("static", "contract.openapi_document", "metrics_scrape", "scrape")
              and not rule.rule.startswith("/stackone_static")}
    links_of_ours = {"/stackone_auth_links/<link_id>", "/l/<secret>"}  # 404s without AUTH_LINK_BASE_URL
    assert served - {"/metrics", "/admin/offboard"} - links_of_ours <= set(document["paths"])


def test_links_of_ours_are_described_only_where_they_are_configured(env):
    from app import create_app

    plain = create_app(env).extensions["stackone_connect_openapi"]
    # The list answers (empty) either way, so a page need not know the setting; withdrawing and clicking need it.
    assert set(plain["paths"]["/stackone_auth_links"]) == {"post", "get"} and "/l/{secret}" not in plain["paths"]
    assert "/stackone_auth_links/{link_id}" not in plain["paths"]
    assert "token" in _answer(plain["paths"]["/stackone_auth_links"]["post"], plain)
    configured = create_app({**env, "AUTH_LINK_BASE_URL": "https://connect.example.com"})
    document = configured.extensions["stackone_connect_openapi"]
    paths = document["paths"]
    assert set(paths["/stackone_auth_links"]) == {"post", "get"}
    assert "404" in paths["/stackone_auth_links/{link_id}"]["delete"]["responses"]
    assert "409" in paths["/stackone_auth_links/{link_id}"]["delete"]["responses"]
    assert set(paths["/l/{secret}"]["get"]["responses"]) >= {"302", "404", "410"}
    sent = _answer(paths["/stackone_auth_links"]["post"], document)
    assert "token" not in sent and {"url", "id", "status"} <= set(sent)


def _answer(operation: dict, document: dict) -> dict:
    """The properties of an operation's 200 answer (apispec puts the schema in components)."""
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    components = document.get("components") or {}
    return components.get("schemas", {}).get(name, {}).get("properties", {})


def test_the_operators_route_is_described_only_where_it_is_configured(env):
    from app import create_app

    assert "/admin/offboard" not in create_app(env).extensions["stackone_connect_openapi"]["paths"]
    configured = create_app({**env, "ADMIN_TOKEN": "a-long-random-operator-token-0123"})
    operation = configured.extensions["stackone_connect_openapi"]["paths"]["/admin/offboard"]["post"]
    assert operation["security"] == [{"admin": []}] and "401" in operation["responses"]


def test_request_bodies_refuse_unknown_fields_and_use_wire_names(document):
    body = document["components"]["schemas"]["ConnectSessionRequest"]
    assert body["additionalProperties"] is False
    assert {"accountId", "expiresIn", "originUsername"} <= set(body["properties"])
    assert body["properties"]["expiresIn"]["maximum"] == 86400
    assert body["properties"]["provider"]["pattern"] == "^[a-z0-9][a-z0-9_.-]{0,63}$"


def test_problems_are_listed_per_operation(document):
    post = document["paths"]["/stackone_connect_sessions"]["post"]["responses"]
    assert "application/problem+json" in post["409"]["content"]
    assert "ambiguous_account" in post["409"]["description"] and "rate_limited" in post["429"]["description"]


def test_the_security_scheme_follows_owner_auth(env, document):
    assert document["components"]["securitySchemes"]["login"] == {"type": "http", "scheme": "bearer",
                                                                  "bearerFormat": "JWT"}
    env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY="legacy-key-0123456789")
    cookie = create_app(env).test_client().get("/openapi.json").get_json()
    assert cookie["components"]["securitySchemes"]["login"] == {"type": "apiKey", "in": "cookie", "name": "session"}


def test_real_answers_match_their_documented_schemas(client, stackone, document):
    schemas = document["components"]["schemas"]

    def check(body, name):
        jsonschema.validate(body, {"$defs": _refs(schemas), **_refs(schemas[name])})

    stackone.get(f"{API}/accounts", json=[account("acc-1", status="error",
                                                  status_reasons=[{"code": "x", "description": "y"}])])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    check(client.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer()).get_json(),
          "ConnectSessionAnswer")
    check(client.get("/stackone_accounts", headers=bearer()).get_json(), "AccountsAnswer")
    check(client.post("/stackone_connect_sessions", json={"x": 1}, headers=bearer()).get_json(), "Problem")
    assert document["components"]["schemas"]["Problem"]["additionalProperties"] is True  # errors, candidates...


def _refs(schema):
    """The component schema with its #/components/schemas/ references pointed at $defs."""
    import json

    return json.loads(json.dumps(schema).replace("#/components/schemas/", "#/$defs/"))
