"""BeatBook: honest crime statistics and local priorities from police.uk data."""

__version__ = "0.1.0"
