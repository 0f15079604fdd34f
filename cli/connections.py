"""Operator commands (docs/production.md): `reconcile`, `offboard --owner-id [--dry-run]`, `deliver-events`,
`resume-events`."""

from __future__ import annotations

import json

import click
from flask import Flask

from connections.offboarding import OffboardSummary, offboard
from connections.reconcile import reconcile_project
from errors import ServiceError
from stackone.client import StackOneClient


def register(app: Flask, command_class, services) -> None:
    """Add the connection commands to the app's CLI."""

    @app.cli.command("reconcile", cls=command_class)
    @click.option("--owner-id", help="Reconcile this owner only (default: the whole project, every owner).")
    def reconcile(owner_id):
        """Compare our view of the accounts with StackOne's, every page; differences become events."""
        svc = services()
        try:
            with StackOneClient.background():  # the operator's pass too: it must not starve the mints
                counts = svc.connections.reconcile_owner(owner_id.strip()) if owner_id else \
                    reconcile_project(svc.connections, svc.client)
        except ServiceError as exc:
            raise click.ClickException(f"{exc.code}: {exc.detail}") from None
        click.echo(json.dumps(counts))

    @app.cli.command("offboard", cls=command_class)
    @click.option("--owner-id", help="The leaving customer's id in your own system (origin_owner_id).")
    @click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
    def offboard_owner(owner_id, dry_run):
        """Delete every StackOne account of one owner (rerun to finish after a failure; a second run is a no-op)."""
        owner_id = (owner_id or "").strip()
        if not owner_id:
            raise click.ClickException("--owner-id is required")
        svc = services()
        try:
            summary = offboard(owner_id, client=svc.client, monitor=svc.connections, dry_run=dry_run, via="cli")
        except ServiceError as exc:
            raise click.ClickException(f"{exc.code}: {exc.detail}") from None
        _print(summary)
        if summary.failed:
            raise SystemExit(1)

    @app.cli.command("deliver-events", cls=command_class)
    def deliver_events():
        """Send the events to APP_WEBHOOK_URL that are due now (the workers do this every few seconds)."""
        click.echo(json.dumps(services().run_due()))

    @app.cli.command("resume-events", cls=command_class)
    def resume_events():
        """Resume delivery to APP_WEBHOOK_URL after it answered 410 Gone; the held events go at the next sweep."""
        svc = services()
        if svc.endpoint_pause is None:
            click.echo("APP_WEBHOOK_URL is not set: no events are sent, nothing to resume")
            return
        was_paused = svc.endpoint_pause.resume()
        queued = svc.connections.ledger.backlog()
        click.echo(f"delivery {'resumed' if was_paused else 'was not paused'}: {queued} events queued")


def _print(summary: OffboardSummary) -> None:
    # A dry run says "would delete" throughout: nothing in its output reads as done.
    if summary.dry_run:
        for account_id in summary.would_delete:
            click.echo(f"would delete {account_id}")
        click.echo(f"owner {summary.owner_id}: {len(summary.would_delete)} would be deleted (dry run: nothing "
                   "deleted)")
        return
    for account_id in summary.deleted:
        click.echo(f"deleted {account_id}")
    for account_id in summary.failed:
        click.echo(f"failed {account_id}")
    click.echo(f"owner {summary.owner_id}: {len(summary.deleted)} deleted, {len(summary.already_gone)} already gone, "
               f"{len(summary.failed)} failed" + ("; rerun to finish" if summary.failed else ""))
