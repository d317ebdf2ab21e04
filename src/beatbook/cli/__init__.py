"""The ``beatbook`` command line: one module per command group."""
