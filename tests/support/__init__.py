"""Shared test support: the real sample store, the local police.uk server."""
