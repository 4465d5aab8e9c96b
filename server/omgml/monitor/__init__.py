"""Monitoring as a loop: one call per new batch, an append-only history, alert rules."""
