"""The "create a problem here" form in the popups of a hot spot cell, a recurring cell or a DBSCAN hull.

Each popup holds only a small marker: the place (a cell's ``i,j`` on the 200 m grid, or a
hull's GeoJSON in lon/lat), its category when known and the head of its title.
web/static/js/new_problem.js turns the marker into the form when the popup opens, with
the page's categories, the sector's ``/problemes`` URL and the page's CSRF token
(:func:`new_problem_config`, in the page once): a full form in every cell would weigh on
the sector page (hundreds of cells), and the map is kept and shared by every user of the
view, so it can carry no token. One click then posts the problem, located and categorised.

Every value goes through :func:`layers.escaping.html_text` (the popup is set as innerHTML).

>>> new_problem_marker(cell=(4946, 33664), category="stupefiants", title="Point chaud")
'<span class="psq-new-problem" data-cellule="4946,33664" data-categorie="stupefiants" data-titre="Point chaud"></span>'
>>> new_problem_config("/secteur/CSP%20Belfort/BEL-CENTRE/problemes", {"rodeos": "Rodéos"})["categories"]
[['rodeos', 'Rodéos']]
"""

from __future__ import annotations

import json

import shapely

from layers.escaping import html_text

#: The class of the markers that web/static/js/new_problem.js turns into forms.
MARKER_CLASS = "psq-new-problem"


def new_problem_marker(*, cell: tuple[int, int] | None = None, hull: shapely.Geometry | None = None,
                       category: str | None = None, title: str = "") -> str:
    """The popup's marker (HTML) for a problem at ``cell`` or ``hull`` (lon/lat), of ``category`` if known."""
    place = (f'data-cellule="{int(cell[0])},{int(cell[1])}"' if cell is not None else
             f'data-enveloppe="{html_text(json.dumps(shapely.geometry.mapping(hull)))}"')
    known = f' data-categorie="{html_text(category)}"' if category else ""
    return f'<span class="{MARKER_CLASS}" {place}{known} data-titre="{html_text(title)}"></span>'


def new_problem_config(url: str, categories: dict[str, str]) -> dict:
    """What new_problem.js needs to build the forms: the sector's endpoint and the categories (code, label)."""
    return {"url": url, "categories": [[code, label] for code, label in categories.items()]}


__all__ = ["MARKER_CLASS", "new_problem_config", "new_problem_marker"]
