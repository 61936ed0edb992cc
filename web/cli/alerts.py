"""``psq alerts``: the alert worker and the mayors' subscriptions (issue 16 item 5)."""

from __future__ import annotations

import click

from web.cli.common import engine, user_errors


@click.group("alerts")
def alerts():
    """Alerts to mayors: delivery worker, subscriptions."""


@alerts.command("work")
@click.option("--once", is_flag=True,
              help="Deliver what is due now (retries whose wait is over included), then exit: for tests and cron.")
@user_errors
def work_command(once):
    """Run the delivery worker (until Ctrl-C) that mails the pending alerts and digests, with retries."""
    from geo.accounts.users import UserScope
    from geo.alerts.outbox import list_alerts
    from geo.alerts.worker import work

    eng = engine()
    if not once:
        click.echo("Alert worker started (Ctrl-C to stop).", err=True)
    work(eng, once=once)
    if once:
        pending = list_alerts(eng, UserScope("admin"), None, pending=True, limit=100_000)
        click.echo(f"Done; {len(pending)} alert(s) still pending.")


@alerts.command("subscribe")
@click.argument("email")
@click.option("--category", "categories", multiple=True, metavar="CODE",
              help="Code of a category the mayor is alerted of (repeatable); none: end his opt-ins.")
@click.option("--digest", is_flag=True, help="In the daily digest rather than one message per occurrence.")
@user_errors
def subscribe_command(email, categories, digest):
    """Set a mayor's opt-ins (replacing his previous ones)."""
    import sqlalchemy as sa

    from geo.accounts.users import normalize_email
    from geo.alerts.subscriptions import SubscriptionError, subscribe

    eng = engine()
    with eng.connect() as conn:
        user_id = conn.execute(sa.text("SELECT id FROM app_user WHERE email = :e"),
                               {"e": normalize_email(email)}).scalar_one_or_none()
    if user_id is None:
        raise SubscriptionError(f"No account {normalize_email(email)}.")
    now = subscribe(eng, user_id, {code: digest for code in categories})
    if not now:
        click.echo(f"{normalize_email(email)} receives no alert.")
        return
    kinds = ", ".join(f"{code} ({'digest' if d else 'immediate'})" for code, d in now.items())
    click.echo(f"{normalize_email(email)} is alerted of: {kinds}.")


@alerts.command("list")
@click.option("--pending", is_flag=True, help="Only the alerts not sent yet.")
@user_errors
def list_command(pending):
    """List the alerts of the outbox, newest occurrence first, with their delivery state."""
    from geo.accounts.users import UserScope
    from geo.alerts.outbox import list_alerts

    rows = list_alerts(engine(), UserScope("admin"), None, pending=pending, limit=1000)
    if not rows:
        click.echo("No alert" + (" pending." if pending else "."))
        return
    for r in rows:
        kind = "digest" if r.digest else "immediate"
        state = f"sent {r.sent_at.astimezone():%Y-%m-%d %H:%M}" if r.status == "sent" else (
            f"pending, {r.attempts} attempt(s)" + (f", last error: {r.last_error}" if r.last_error else ""))
        click.echo(f"#{r.id}  {r.when}  {r.category_code}  {r.commune_name}  {r.user_email}  {kind}  {state}")
