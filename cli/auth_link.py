"""The `auth-link` command: the dashboard's "Create Auth Link" for trusted operators, through the same policy; with
AUTH_LINK_BASE_URL set, a link of ours, and `auth-links` and `auth-link-withdraw` to list and withdraw them."""

from __future__ import annotations

import json
import re

import click
from flask import Flask
from marshmallow import ValidationError

from config import CATEGORIES
from errors import AccountLimitReached, AmbiguousAccount, ServiceError
from extensions import services
from identity.owner import Owner
from links.store import LONGEST_PAGE
from logs.audit import audit
from schemas.session_request import AuthLinkRequestSchema

# The HTTP API's words for what the operator typed as options: errors speak the command's own language.
# (The camelCase names only, in free text: "provider" or "label" there is the plain word.)
WIRE_NAMES = {"expiresIn": "--expires-in", "accountId": "--account-id", "originUsername": "--username",
              "multiple: true": "--multiple"}
FIELD_OPTIONS = {**WIRE_NAMES, "provider": "--provider", "category": "--category", "categories": "--category",
                 "label": "--label", "multiple": "--multiple"}
_WIRE_NAME = re.compile("|".join(re.escape(k) for k in sorted(WIRE_NAMES, key=len, reverse=True)))


def in_cli_words(text: str, owner_id: str | None = None) -> str:
    """A message of the HTTP API in the command's words: its options, and the owner it names."""
    text = _WIRE_NAME.sub(lambda m: WIRE_NAMES[m.group(0)], text)
    if owner_id:
        text = text.replace("Your organisation", f"Owner {owner_id}").replace("your organisation", f"owner {owner_id}")
    return text


def _one_line(errors: dict) -> str:
    parts = []
    for field, messages in errors.items():
        text = messages if isinstance(messages, list) else [str(messages)]
        parts.append(f"{FIELD_OPTIONS.get(field, field)}: {in_cli_words(' '.join(str(m) for m in text))}")
    return "; ".join(parts)


def _refusal(exc: ServiceError, owner_id: str) -> click.ClickException:
    message = in_cli_words(f"{exc.code}: {exc.detail}", owner_id)
    if isinstance(exc, AmbiguousAccount):
        choices = ", ".join(f"{c['id']} ({c.get('label') or 'no label'})" for c in exc.extra.get("candidates", []))
        message += f". Accounts: {choices}. Rerun with --account-id ID, or --multiple --label NAME to add another"
    if isinstance(exc, AccountLimitReached):
        message += ". Rerun with --ignore-limits to mint past the cap (recorded in the audit trail)"
    return click.ClickException(message)


def _send_ours(owner: Owner, request, as_json: bool) -> None:
    """Make a link of ours for `owner`, decided now from StackOne itself, and print it (its URL is shown once)."""
    try:
        sent = services().links.send(owner, request, live=True)
    except ServiceError as exc:
        raise _refusal(exc, owner.id) from None
    audit("auth_link_sent", via="cli", owner_id=owner.id, username=owner.username, **sent.audit_fields())
    answer = sent.as_json()
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    click.echo(f"Auth Link {answer['id']} for {owner.name} ({owner.id}), action {answer['action']} (decided again "
               "when clicked):")
    click.echo(sent.url)
    click.echo(f"Works until {answer['expiresAt']} ({sent.link.expires - sent.link.created:g} seconds) unless "
               f"withdrawn: flask auth-link-withdraw --owner-id {owner.id} {answer['id']}")


def _owner_id(owner_id: str | None) -> str:
    owner_id = (owner_id or "").strip()
    if not owner_id:
        raise click.ClickException("--owner-id is required")
    if not services().links_on:
        raise click.ClickException("AUTH_LINK_BASE_URL is not set: links are StackOne's own, which cannot be "
                                   "listed or withdrawn")
    return owner_id


def register_links(app: Flask, command_class) -> None:
    """Add `auth-links` (list) and `auth-link-withdraw` to the app's CLI."""

    @app.cli.command("auth-links", cls=command_class)
    @click.option("--owner-id", help="Your customer's id in your own system (origin_owner_id).")
    @click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
    def auth_links(owner_id, as_json):
        """List an owner's Auth Links of ours, newest first (AUTH_LINK_BASE_URL)."""
        owner_id = _owner_id(owner_id)
        try:
            links = services().links.listing(Owner(owner_id, owner_id), limit=LONGEST_PAGE)
        except ServiceError as exc:
            raise click.ClickException(f"{exc.code}: {exc.detail}") from None
        if as_json:
            click.echo(json.dumps({"links": links}, indent=2))
            return
        if not links:
            click.echo(f"No links of owner {owner_id}")
        for link in links:
            click.echo(f"{link['id']}  {link['status']:<9}  for {link['for'] or '-'}  by {link['by'] or '-'}  "
                       f"{link['provider'] or 'any provider'}  made {link['createdAt']}  until {link['expiresAt']}  "
                       f"clicks {link['clicks']}")

    @app.cli.command("auth-link-withdraw", cls=command_class)
    @click.option("--owner-id", help="Your customer's id in your own system (origin_owner_id).")
    @click.argument("link_id", required=False)
    def auth_link_withdraw(owner_id, link_id):
        """Withdraw one of an owner's live Auth Links of ours: it opens nothing from now on."""
        owner_id = _owner_id(owner_id)
        if not link_id:
            raise click.ClickException("the link's id (lnk_..., from flask auth-links) is required")
        try:
            link = services().links.withdraw(Owner(owner_id, owner_id), link_id.strip())
        except ServiceError as exc:
            raise click.ClickException(in_cli_words(f"{exc.code}: {exc.detail}", owner_id)) from None
        audit("auth_link_withdrawn", via="cli", owner_id=owner_id, link_id=link.handle,
              for_username=link.origin_username)
        click.echo(f"Withdrawn: {link.handle} of owner {owner_id}")


def register(app: Flask, command_class) -> None:
    """Add `auth-link` to the app's CLI."""

    # Options are checked here, not by click's types, so every mistake is a single "Error: ..." line.
    @app.cli.command("auth-link", cls=command_class)
    @click.option("--owner-id", help="Your customer's id in your own system (origin_owner_id).")
    @click.option("--owner-name", help="Your customer's name in your own system (origin_owner_name).")
    @click.option("--username", help="The user who will connect (origin_username), e.g. an email.")
    @click.option("--category", help=f"Open the hub at one category: {', '.join(CATEGORIES)}.")
    @click.option("--provider", help="Open the hub at one provider, e.g. bamboohr.")
    @click.option("--account-id", help="Re-link this existing account of the owner (the hub opens it for editing).")
    @click.option("--multiple", is_flag=True, help="Add another account beside the owner's existing ones.")
    @click.option("--label", help="A label stored on the account; tells several accounts of one provider apart.")
    @click.option("--expires-in", help="Seconds the link works for (60 to 604800; default 432000, 5 days).")
    @click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
    @click.option("--ignore-limits", is_flag=True, help="Mint past ACCOUNT_LIMITS' caps (recorded in the audit trail).")
    def auth_link(owner_id, owner_name, username, category, provider, account_id, multiple, label, expires_in,
                  as_json, ignore_limits):
        """Create an Auth Link to send to a customer (operators only: you name the owner)."""
        owner_id, owner_name = (owner_id or "").strip(), (owner_name or "").strip()
        if not owner_id or not owner_name:
            raise click.ClickException("--owner-id and --owner-name are both required")
        body: dict = {"originUsername": username, "provider": provider, "category": category,
                      "accountId": account_id, "label": label, "multiple": True if multiple else None}
        if expires_in is not None:
            try:
                body["expiresIn"] = int(expires_in)
            except ValueError:
                message = f"--expires-in must be a whole number of seconds, not {expires_in!r}"
                raise click.ClickException(message) from None
        try:
            request = AuthLinkRequestSchema().load({k: v for k, v in body.items() if v is not None})
        except ValidationError as exc:
            raise click.ClickException(_one_line(exc.normalized_messages())) from None
        owner = Owner(owner_id, owner_name, username)
        if services().links_on and not ignore_limits:
            # A link of ours (AUTH_LINK_BASE_URL). Past the caps it would be refused again at its click, so
            # --ignore-limits mints StackOne's own link now, as before.
            _send_ours(owner, request, as_json)
            return
        try:
            # Decided from StackOne itself, not the 60-second cache: an operator acts on what is there now.
            issued = services().sessions.open_session(owner, request, ignore_limits=ignore_limits, live=True)
        except ServiceError as exc:
            raise _refusal(exc, owner_id) from None
        extra = {"limits_ignored": True} if ignore_limits else {}
        audit("auth_link_minted", via="cli", owner_id=owner_id, username=username, **extra, **issued.audit_fields())
        answer = {"url": issued.link, **issued.as_json()}
        if as_json:
            click.echo(json.dumps(answer, indent=2))
            return
        click.echo(f"Auth Link for {owner_name} ({owner_id}), action {answer['action']}:")
        click.echo(issued.link)
        days = issued.expires_in / 86400
        click.echo(f"Works until {answer['expiresAt']} ({days:g} days); anyone holding it can connect an account "
                   f"for {owner_name}.")
