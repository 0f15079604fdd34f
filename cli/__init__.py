"""The operator's commands (`flask auth-link`, and the connection commands), each usage mistake one line."""

from __future__ import annotations

import click
from flask import Flask

from extensions import services


class OneLineCommand(click.Command):
    """A command whose every usage mistake (a mistyped option, a missing value) is one `Error:` line, exit 1."""

    def make_context(self, info_name, args, parent=None, **extra):
        """Parse as usual; turn click's usage errors (exit 2, with a usage block) into one line."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise click.ClickException(f"{exc.format_message()} (see --help)") from None



def register_cli(app: Flask) -> None:
    """Add the `auth-link` commands, and the connection commands, to the app's CLI."""
    from cli.auth_link import register as register_auth_link
    from cli.auth_link import register_links
    from cli.connections import register

    register(app, OneLineCommand, services)
    register_auth_link(app, OneLineCommand)
    register_links(app, OneLineCommand)
