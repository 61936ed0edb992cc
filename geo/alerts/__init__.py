"""Alerts to mayors: opt-in per category, the outbox written with each import, delivery by a worker."""
