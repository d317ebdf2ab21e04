"""Importers: police.uk CSVs, ONS lookups and population."""
