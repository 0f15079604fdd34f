"""The request schema: strict JSON types, camelCase, ranges, defaults; owner fields refused under any spelling."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from errors import OwnerFieldsForbidden
from policy import SessionRequest
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import AuthLinkRequestSchema, ConnectSessionRequestSchema


def test_seed_example_body_loads_with_defaults():
    loaded = ConnectSessionRequestSchema().load({"originUsername": "ann@acme.test", "provider": "bamboohr"})
    assert loaded == SessionRequest(expires_in=1800, origin_username="ann@acme.test", provider="bamboohr")


def test_everything_at_once():
    loaded = ConnectSessionRequestSchema().load({
        "provider": "hibob", "categories": ["hris", "ats", "hris"], "label": "EU", "multiple": True, "expiresIn": 60})
    assert loaded.categories == ("hris", "ats") and loaded.multiple and loaded.expires_in == 60


def test_null_means_not_given():
    loaded = ConnectSessionRequestSchema().load({"provider": None, "multiple": None, "expiresIn": None})
    assert loaded == SessionRequest(expires_in=1800)


@pytest.mark.parametrize(("body", "field"), [
    ({"multiple": "yes"}, "multiple"),
    ({"multiple": 1}, "multiple"),
    ({"expiresIn": "3600"}, "expiresIn"),
    ({"expiresIn": True}, "expiresIn"),
    ({"expiresIn": 3600.5}, "expiresIn"),
    ({"expiresIn": 59}, "expiresIn"),
    ({"expiresIn": 86401}, "expiresIn"),
    ({"originUsername": "x" * 256}, "originUsername"),
    ({"originUsername": 42}, "originUsername"),
    ({"label": ""}, "label"),
    ({"provider": "Bamboo HR"}, "provider"),
    ({"category": "payroll"}, "category"),
    ({"categories": "hris"}, "categories"),
    ({"categories": []}, "categories"),
    ({"category": "hris", "categories": ["ats"]}, "category"),
    ({"accountId": "../admin"}, "accountId"),
    ({"origin_username": "snake"}, "origin_username"),
    ({"metadata": {"source": "x"}}, "metadata"),
])
def test_bad_fields_are_reported_by_their_wire_name(body, field):
    with pytest.raises(ValidationError) as error:
        ConnectSessionRequestSchema().load(body)
    assert list(error.value.messages) == [field]


def test_auth_links_default_to_five_days_and_allow_seven():
    assert AuthLinkRequestSchema().load({}).expires_in == 432000
    assert AuthLinkRequestSchema().load({"expiresIn": 604800}).expires_in == 604800
    with pytest.raises(ValidationError):
        AuthLinkRequestSchema().load({"expiresIn": 605000})


@pytest.mark.parametrize("key", ["origin_owner_id", "originOwnerId", "ORIGIN_OWNER_NAME", "originOwnerName",
                                 "Origin-Owner-Id", "ownerId"])
def test_owner_fields_are_refused_under_any_spelling(key):
    with pytest.raises(OwnerFieldsForbidden) as refused:
        refuse_owner_fields(["provider"], [key])
    assert refused.value.status == 400 and "login" in refused.value.detail


def test_other_fields_pass_the_owner_guard():
    refuse_owner_fields(["provider", "originUsername", "label"], ["page"])


@pytest.mark.parametrize(("key", "ours"), [("account_id", "accountId"), ("expires_in", "expiresIn"),
                                           ("origin_username", "originUsername")])
def test_stackones_own_spelling_gets_a_hint(key, ours):
    with pytest.raises(ValidationError) as refused:
        ConnectSessionRequestSchema().load({key: "x"})
    assert refused.value.messages == {key: [f"Unknown field; did you mean `{ours}`?"]}


def test_other_unknown_fields_keep_the_plain_message():
    with pytest.raises(ValidationError) as refused:
        ConnectSessionRequestSchema().load({"colour": "red"})
    assert refused.value.messages == {"colour": ["Unknown field."]}
