"""The French names of the GPO's codes: organisation kinds, rhythms, action kinds and statuses.

The codes are those of migration 0012's CHECK constraints; every page, the meeting file
and the command line show these labels.

>>> ACTION_KINDS["enlevement_epaves_encombrants"], ACTION_STATUSES["faite"], RHYTHMS["quinzaine"]
("Enlèvement d'épaves et d'encombrants", 'Faite', 'Tous les 15 jours')
"""

from __future__ import annotations

ORGANISATION_KINDS = {
    "mairie": "Mairie",
    "police_municipale": "Police municipale",
    "bailleur_social": "Bailleur social",
    "etablissement_scolaire": "Établissement scolaire",
    "transporteur": "Transporteur",
    "association": "Association",
    "police_nationale": "Police nationale",
    "autre": "Autre",
}

RHYTHMS = {"quinzaine": "Tous les 15 jours", "mensuel": "Mensuel"}

GPO_KINDS = {"secteur": "GPO de secteur", "thematique": "GPO thématique"}

ACTION_KINDS = {
    "densification_patrouilles": "Densification des patrouilles",
    "controle_parties_communes": "Contrôle des parties communes et caves",
    "arrete_municipal": "Arrêté municipal",
    "enquete_ciblee": "Enquête ciblée",
    "enlevement_epaves_encombrants": "Enlèvement d'épaves et d'encombrants",
    "videoprotection": "Vidéoprotection",
    "prevention_mediation": "Prévention et médiation",
    "autre": "Autre",
}

ACTION_STATUSES = {"prevue": "Prévue", "en_cours": "En cours", "faite": "Faite", "abandonnee": "Abandonnée"}

#: An action still to do (overdue when its due date has passed).
OPEN_ACTION_STATUSES = ("prevue", "en_cours")

__all__ = ["ACTION_KINDS", "ACTION_STATUSES", "GPO_KINDS", "OPEN_ACTION_STATUSES", "ORGANISATION_KINDS", "RHYTHMS"]
