"""The meeting file of a GPO: a printable page and its PDF (WeasyPrint), one click from the GPO's page.

- ``GET /gpo/<id>/dossier``: the page (web/templates/gpo_file.html, print CSS web/static/meeting_file.css),
  the map inlined as a ``data:`` URI;
- ``GET /gpo/<id>/dossier.pdf``: the same template rendered to PDF, as an attachment
  (``gpo-12-2026-12-15.pdf``).

WeasyPrint fetches nothing from the network: :func:`local_fetcher` serves the files of
web/static and ``data:`` URIs, and refuses every other URL. ``psq report`` (web/cli/report.py)
renders the same way.
"""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user
from werkzeug.security import safe_join

from geo.gpo.meeting_file import MeetingFile, audit_export, meeting_file
from geo.problems.status import LABELS as PROBLEM_STATUSES
from web.access import current_scope, permission_required, require
from web.db import get_db

bp = Blueprint("gpo_file", __name__)


@bp.route("/gpo/<int:gpo_id>/dossier")
@permission_required("gpo.agenda")
def meeting_file_page(gpo_id: int):
    require("gpo.view", gpo_id)
    return render_file(meeting_file(get_db(), current_scope(), gpo_id))


@bp.route("/gpo/<int:gpo_id>/dossier.pdf")
@permission_required("gpo.agenda")
def meeting_file_pdf(gpo_id: int):
    require("gpo.view", gpo_id)
    file = meeting_file(get_db(), current_scope(), gpo_id)
    audit_export(get_db(), file, user_id=current_user.account.id, ip=request.remote_addr)
    return Response(pdf_of(file), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


def render_file(file: MeetingFile, *, pdf: bool = False) -> str:
    """The HTML of the meeting file (``pdf``: without the page's links), in a request context."""
    return render_template("gpo_file.html", file=file, pdf=pdf, problem_statuses=PROBLEM_STATUSES)


def pdf_of(file: MeetingFile) -> bytes:
    """The PDF of the meeting file, in a request context (the app's or a test_request_context)."""
    return html_to_pdf(render_file(file, pdf=True))


def html_to_pdf(html: str) -> bytes:
    """WeasyPrint's PDF of ``html``; its relative URLs resolve against the request's root, served locally."""
    import weasyprint  # Pango and its fonts load in a second: only when a PDF is made

    return weasyprint.HTML(string=html, base_url=request.url_root, url_fetcher=static_fetcher()).write_pdf()


def static_fetcher():
    """The fetcher of the app's static files under the request's root URL (see :func:`local_fetcher`)."""
    app = current_app
    return local_fetcher(Path(app.static_folder), request.url_root.rstrip("/") + app.static_url_path + "/")


def local_fetcher(root: Path, prefix: str):
    """A WeasyPrint URL fetcher that serves only ``data:`` URIs and the files of ``root`` under the URL ``prefix``.

    Any other URL (another site, another path of this one, ``file:``) raises ValueError,
    which WeasyPrint reports as a warning and skips: the PDF is made without it, and no
    request leaves the server.
    """
    return _fetcher_class()(root, prefix)


@functools.cache
def _fetcher_class():
    """The fetcher's class, defined on first use: its base, WeasyPrint, takes a second to import."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        def __init__(self, root: Path, prefix: str):
            super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)
            self.root, self.prefix = root, prefix

        def fetch(self, url: str, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith(self.prefix):
                path = safe_join(str(self.root), unquote(urlsplit(url).path[len(urlsplit(self.prefix).path):]))
                if path is not None and Path(path).is_file():
                    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": kind})
            raise ValueError(f"not fetched (only the app's static files and data: URIs are): {url}")

    return LocalFetcher


__all__ = ["bp", "html_to_pdf", "local_fetcher", "pdf_of", "render_file", "static_fetcher"]
