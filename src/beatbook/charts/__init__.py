"""Charts: facts in, PNG bytes out."""
