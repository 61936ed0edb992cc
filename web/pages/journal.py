"""The audit log for admins: every write, export and login attempt, newest first, filtered.

``/admin/journal?action=&utilisateur=&cible=&ip=&du=&au=&avant=`` (geo.db.audit.AuditFilter):
100 rows a page, the next page by ``avant`` (the oldest id shown). The row-level security
of ``audit_log`` (migration 0011) lets the app's role read it under an admin's scope only.
"""

from __future__ import annotations

import json

from flask import Blueprint, render_template, request

from geo.db.audit import PAGE_ROWS, AuditFilter, read_audit_log
from web.access import permission_required
from web.db import get_db

bp = Blueprint("journal", __name__)

#: Beginnings of actions offered in the form's list (any other may be typed).
ACTION_KINDS = (("", "toutes"), ("login.", "connexions"), ("logout", "déconnexions"), ("user.", "comptes"),
                ("write.", "écritures (toutes tables)"), ("patrol_zone.", "zones de patrouille"),
                ("export.", "exports"), ("db.", "sauvegardes"))


@bp.route("/admin/journal")
@permission_required("audit.view")
def journal_page():
    where = AuditFilter.parse(request.args)
    rows = read_audit_log(get_db(), where, limit=PAGE_ROWS + 1)
    more = len(rows) > PAGE_ROWS
    rows = rows[:PAGE_ROWS]
    for row in rows:
        row["details_text"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True) if row["details"] else ""
    older = dict(request.args, avant=rows[-1]["id"]) if more and rows else None
    return render_template("journal.html", rows=rows, where=where, kinds=ACTION_KINDS, older=older)
