"""The one error of the hotspot engine: input on which a statistic is undefined."""

from __future__ import annotations

from geo.errors import PsqError


class HotspotInputError(PsqError, ValueError):
    """The input cannot give a meaningful statistic; the message says why in one sentence.

    Examples
    --------
    >>> raise HotspotInputError("no cell of the grid lies in the study area")
    Traceback (most recent call last):
    ...
    geo.analysis.hotspots.errors.HotspotInputError: no cell of the grid lies in the study area

    The engine words its messages in English for the command line; ``user_message`` is
    the French sentence the web pages show, chosen from the kind of fault:

    >>> HotspotInputError("no occurrence falls in the study area: Gi* needs at least one").user_message
    'Aucun fait sur cette période et cette catégorie dans le secteur : rien à calculer.'
    """

    #: (words of the English message, the French sentence), first match wins.
    FRENCH = (
        ("no occurrence", "Aucun fait sur cette période et cette catégorie dans le secteur : rien à calculer."),
        ("same count", "Tous les carreaux ont le même nombre de faits : la statistique n'est pas définie."),
        ("bandwidth", "Trop peu de faits, ou trop concentrés, pour estimer une densité."),
        ("at least 2 occurrences", "Trop peu de faits pour estimer une densité."),
        ("study area", "Le secteur est trop petit pour une grille de 200 m."),
        ("time steps", "La période est trop courte pour l'analyse des tendances (au moins 10 semaines)."),
    )

    @property
    def user_message(self) -> str:
        if self._user_message:
            return self._user_message
        text = str(self)
        return next((french for words, french in self.FRENCH if words in text), f"Calcul impossible ({text}).")
