"""Text written by users (or imported from files) made inert wherever a map draws it.

Folium (with branca, which it builds on) mishandles text in three ways:

- ``folium.Tooltip`` and ``folium.Popup`` put their text *raw* into the page's map
  script, inside a JavaScript backtick template literal, and Leaflet then sets it as
  ``innerHTML``: ``</script>`` ends the script, a backtick ends the literal,
  ``${...}`` runs code, a backslash escapes the next character;
- ``folium.GeoJsonTooltip`` and ``folium.GeoJsonPopup`` build an HTML table from the
  feature's properties and set it as ``innerHTML`` (the GeoJSON itself goes through
  ``tojson`` and is safe as data; the danger is that innerHTML);
- branca renders each element's macros, then compiles their *output* again as a Jinja
  template (``Element(template=...)`` in ``MacroElement.render``): any ``{{ ... }}``,
  ``{% ... %}`` or ``{# ... #}`` in data, a GeoJSON property as much as a tooltip, runs
  on the server when the map renders (``{{ cycler.__init__.__globals__.os... }}``: code
  execution, not just a broken page).

:func:`html_text` turns a text into HTML that shows exactly that text and holds none
of the characters that matter to any of them (braces included). Every layer of
:mod:`layers` passes every text it shows in a tooltip or popup through it, and
:func:`refuse_template_syntax` (called by web/map_parts.py before each map renders)
refuses a map whose data still carries Jinja delimiters: a forgotten escape gives an
error, never code run on the server.
"""

from __future__ import annotations

import html
import json

from branca.element import Element

from layers.offline import _walk

__all__ = ["html_text", "refuse_template_syntax"]

# Inside a JavaScript template literal only the first three (and "<" for the HTML parser,
# which html.escape takes) mean anything; braces open Jinja's delimiters when branca
# compiles rendered output again. As HTML entities they are plain characters.
_INERT = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})
_JINJA_DELIMITERS = ("{{", "{%", "{#")


def html_text(value: object) -> str:
    r"""``value`` as HTML text, inert in a backtick template literal and as innerHTML.

    ``html.escape`` (``& < > " '``), then the backtick, ``$``, backslash and braces as
    HTML entities. ``None`` gives ``""``; anything else is shown as ``str(value)``.

    Examples
    --------
    >>> html_text("</script><script>alert(2)</script>")
    '&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;'
    >>> html_text("${window.__xss=3}`\\")
    '&#36;&#123;window.__xss=3&#125;&#96;&#92;'
    >>> html_text("{{ 7*7 }} {% if 1 %} {# x #}")
    '&#123;&#123; 7*7 &#125;&#125; &#123;% if 1 %&#125; &#123;# x #&#125;'
    >>> html_text('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> html_text("Rodéos rue de l'Église"), html_text(None), html_text(12)
    ('Rodéos rue de l&#x27;Église', '', '12')

    The result shows the text as written (what a browser's innerHTML makes of it):

    >>> text = "a < b & `c` ${d} \\e \"f\" 'g' {{h}}"
    >>> html.unescape(html_text(text)) == text
    True
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True).translate(_INERT)


def refuse_template_syntax(root: Element) -> None:
    """Raise ValueError if an element under ``root`` carries ``{{``, ``{%`` or ``{#`` in its data.

    Call it before rendering: branca would run those as Jinja on the server (see the
    module's text). Text passed through :func:`html_text` never holds them.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> _ = folium.GeoJson({"type": "Feature", "properties": {"name": html_text("{{ 7*7 }}")},
    ...                     "geometry": {"type": "Point", "coordinates": [6.86, 47.64]}}).add_to(m)
    >>> refuse_template_syntax(m)
    >>> _ = folium.Marker([47.64, 6.86], tooltip="{{ cycler.__init__ }}").add_to(m)
    >>> refuse_template_syntax(m)
    Traceback (most recent call last):
    ...
    ValueError: Tooltip holds Jinja syntax ('{{ cycler.__init__ }}'): pass its text through layers.escaping.html_text
    """
    for element in _walk(root):
        for key, value in vars(element).items():
            if key in ("_parent", "_children", "_template"):
                continue
            if isinstance(value, str):
                text = value
            elif isinstance(value, (dict, list, tuple)):
                text = json.dumps(value, default=repr, ensure_ascii=False, skipkeys=True)
            else:
                continue
            if any(d in text for d in _JINJA_DELIMITERS):
                start = min(i for i in (text.find(d) for d in _JINJA_DELIMITERS) if i >= 0)
                raise ValueError(f"{type(element).__name__} holds Jinja syntax ({text[start:start + 40]!r}): "
                                 "pass its text through layers.escaping.html_text")
