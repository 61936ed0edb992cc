"""The "create a problem here" form in the popups of a hot spot cell, a recurring cell or a DBSCAN hull.

One click in a popup posts the place (a cell's ``i,j`` on the 200 m grid, or a hull's GeoJSON
in lon/lat), its category and a title to the sector's ``/problemes`` endpoint
(web/pages/problems.py); the problem is then created located and categorised. The
forms carry no CSRF token: the map is rendered once for every user of the view (kept
views), so web/static/js/new_problem.js adds the page's token when a form is sent.

Every value goes through :func:`layers.escaping.html_text` (the popup is set as innerHTML).

>>> html = new_problem_form("/secteur/CSP%20Belfort/BEL-CENTRE/problemes", {"stupefiants": "Stupéfiants"},
...                         cell=(4946, 33664), category="stupefiants", title="Point chaud – Stupéfiants")
>>> 'name="cellule" value="4946,33664"' in html, '<option value="stupefiants" selected>' in html
(True, True)
"""

from __future__ import annotations

import json

import shapely

from layers.escaping import html_text

#: The class of the forms that web/static/js/new_problem.js completes with the CSRF token.
FORM_CLASS = "psq-new-problem"


def new_problem_form(url: str, categories: dict[str, str], *, cell: tuple[int, int] | None = None,
                     hull: shapely.Geometry | None = None, category: str | None = None, title: str = "") -> str:
    """The popup's form (HTML) creating a problem at ``cell`` or ``hull`` (lon/lat), of ``category`` if known."""
    place = (f'<input type="hidden" name="cellule" value="{int(cell[0])},{int(cell[1])}">' if cell is not None else
             f'<input type="hidden" name="enveloppe" value="{html_text(json.dumps(shapely.geometry.mapping(hull)))}">')
    options = "".join(f'<option value="{html_text(code)}"{" selected" if code == category else ""}>{html_text(label)}'
                      f'</option>' for code, label in categories.items())
    return (f'<form class="{FORM_CLASS}" method="post" action="{html_text(url)}">{place}'
            '<strong>Nouveau problème à cet endroit</strong>'
            f'<input name="titre" value="{html_text(title)}" maxlength="200" aria-label="Titre du problème" required>'
            f'<select name="categorie" aria-label="Catégorie">{options}</select>'
            f'<button type="submit">Créer un problème ici</button></form>')


__all__ = ["FORM_CLASS", "new_problem_form"]
