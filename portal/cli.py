"""Command line: `flask --app wsgi ...` or the `portal` console script."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy import select

from portal import backup
from portal.errors import DomainError


def main() -> None:
    """The `portal` console script: Flask's CLI bound to this app."""
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app())(prog_name="portal")


def print_demo_logins() -> None:
    from portal.demo import DEMO_PASSWORD, demo_logins

    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    for login in demo_logins():
        roles = ", ".join(r.label for r in login.roles)
        click.echo(f"  {login.email:<26} {roles}")
    click.echo("")


def register_commands(app: Flask) -> None:
    # AppGroup runs each command inside an application context.
    demo = AppGroup("demo", help="Demo data.")
    user = AppGroup("user", help="Users.")
    app.cli.add_command(demo)
    app.cli.add_command(user)
    backup.register_commands(app)

    from portal.background.cli import register as register_background_commands

    register_background_commands(app)

    from portal.api.cli import register as register_api_commands
    from portal.relationship.cli import register as register_relationship_commands

    register_relationship_commands(app)

    register_api_commands(app)

    @demo.command("load")
    @click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
    def demo_load(if_empty: bool) -> None:
        """Load the deterministic demo data into the configured database."""
        from portal import demo as demo_data

        if current_app.config["ENV"] == "production":
            raise click.ClickException("Demo data is never loaded in production mode.")
        if demo_data.is_loaded():
            if if_empty:
                click.echo("The database already has users; demo data not loaded.")
                print_demo_logins()
                return
            raise click.ClickException("The database already has users; refusing to add demo data.")
        counts = demo_data.load()
        click.echo("Loaded demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        print_demo_logins()

    @user.command("create")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        help="Repeat for several roles, e.g. --role admin.",
    )
    @click.option(
        "--account", "account_number", help="Customer account number; omit for vendor staff."
    )
    @click.password_option(help="Prompted for when omitted.")
    def user_create(email, name, roles, account_number, password) -> None:
        """Create a user (vendor staff, or a customer's user with --account)."""
        from portal.accounts import service
        from portal.accounts.models import CustomerAccount
        from portal.accounts.roles import Role
        from portal.extensions import db

        account_id = None
        if account_number:
            account_id = db.session.scalar(
                select(CustomerAccount.id).where(CustomerAccount.number == account_number.upper())
            )
            if account_id is None:
                raise click.ClickException(f"No customer account {account_number}.")
        try:
            parsed_roles = [Role(r) for r in roles]
        except ValueError:
            raise click.ClickException("Roles: " + ", ".join(r.value for r in Role)) from None
        try:
            created = service.create_user(
                None,
                email=email,
                name=name,
                roles=parsed_roles,
                password=password,
                account_id=account_id,
            )
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Created {created.email}.")

    @user.command("reset-password")
    @click.argument("email")
    @click.password_option(help="Prompted for when omitted.")
    def user_reset_password(email, password) -> None:
        """Set a new password for a user and end all their sessions."""
        from portal.accounts import service
        from portal.accounts.models import User
        from portal.extensions import db

        found = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if found is None:
            raise click.ClickException(f"No user {email}.")
        try:
            service.reset_password(None, found, password)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Password of {found.email} reset; their sessions have ended.")
