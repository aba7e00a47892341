"""`flask api-token create`: a token for scripts and tests, printed alone on the last line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.errors import DomainError

from .models import SCOPES


def register(app: Flask) -> None:
    """Add the api-token commands to the app's CLI."""
    group = AppGroup("api-token", help="API tokens.")
    app.cli.add_command(group)

    @group.command("create")
    @click.option("--email", required=True, help="The customer user the token acts as.")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        required=True,
        type=click.Choice(list(SCOPES)),
        help="Repeat for several scopes.",
    )
    @click.option("--days", type=int, required=True, help="Days until it expires (1 to 366).")
    @click.option("--name", default="Command line", show_default=True)
    def create(email: str, scopes: tuple[str, ...], days: int, name: str) -> None:
        """Create a token; the token itself is the last line of the output (shown once)."""
        from portal.accounts.models import User
        from portal.extensions import db, utcnow

        from . import tokens

        user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            raise click.ClickException(f"No user {email}.")
        try:
            created = tokens.create(
                None, acting_as=user, name=name, scopes=list(scopes), days=days, now=utcnow()
            )
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(
            f"Token {created.token.hint}… for {user.email} ({created.token.scopes}), "
            f"expires {created.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown only now:"
        )
        click.echo(created.text)
