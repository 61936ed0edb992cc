"""The GPO workflow (groupes de partenariat opérationnel): partners, agendas, meetings, actions, assessments."""
