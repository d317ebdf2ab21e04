"""One module of routes per resource; shared dependencies are in :mod:`beatbook.web.deps`."""
