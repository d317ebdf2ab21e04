"""Residents' concerns: records, CSV import and place matching."""
