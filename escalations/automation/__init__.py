"""Routine ticket automation (the rules, their passes, the ledger and undo)."""
