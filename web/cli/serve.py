"""``psq demo`` and ``psq serve``: load the demo, serve the app."""

from __future__ import annotations

import click

from web.cli.common import engine, user_errors


# -- demo and serving ----------------------------------------------------------
@click.command("demo")
@user_errors
def demo():
    """Load the whole demo (Territoire de Belfort, CSP Belfort, real road accidents,
    synthetic problems and occurrences) and exit."""
    from geo.demo.loader import load_demo

    load_demo(engine(), say=click.echo)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: cores + 1, at least 2).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Threads per worker.")
@click.option("--keep-alive", type=click.IntRange(0, 300), default=0, show_default=True,
              help="Seconds an idle connection stays open (0: closed after each response, which spreads the "
                   "requests over the workers).")
@click.option("--access-log", type=click.Path(dir_okay=False), help="Write gunicorn's access log here ('-': stdout).")
@click.option("--dev", is_flag=True, help="Werkzeug's development server with its reloader, one process.")
@user_errors
def serve(host, port, workers, threads, keep_alive, access_log, dev):
    """Serve the web app with gunicorn (worker processes and threads), or Werkzeug's reloader with --dev."""
    if dev:
        from werkzeug.serving import run_simple

        from web import create_app
        from web.cli.serving import QuietHandler

        click.echo(f"Development server on http://{host}:{port}/ (reloads on change; Ctrl+C to stop).")
        run_simple(host, port, create_app(), threaded=True, use_reloader=True, request_handler=QuietHandler)
        return
    from web.cli.serving import PsqServer, default_workers

    workers = workers or default_workers()
    click.echo(f"Serving on http://{host}:{port}/ with gunicorn, {workers} workers x {threads} threads "
               "(Ctrl+C to stop).")
    PsqServer(host, port, workers=workers, threads=threads, keep_alive=keep_alive, access_log=access_log).run()
