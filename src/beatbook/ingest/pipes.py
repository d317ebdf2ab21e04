"""Zip members streamed to DuckDB through pipes: decompressed on the fly, never extracted.

DuckDB reads files by path and cannot open a zip member. Rather than extract members
to a temporary folder (an archive's text is many times its size on disk), each member
gets an operating-system pipe: a thread decompresses the member into the pipe's write
end while DuckDB reads ``/dev/fd/N``, the read end, as a plain CSV. Memory is one
chunk per member and the disk is never written.

A feeding thread writes at most the text size its scan measured (``sources.scan``); if
the member changed or cannot be read, the text DuckDB gets falls short and the line
count check in ``policeuk_csv`` refuses the file. Closing the pipes ends every thread:
a thread still writing gets a broken pipe.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

from beatbook.ingest.sources import CHUNK, READ_ERRORS, Source


class Pipes:
    """The pipes of one DuckDB read: ``path`` for each member, ``close`` when read."""

    def __init__(self) -> None:
        self._ends: list[int] = []
        self._threads: list[threading.Thread] = []

    def path(self, source: Source, size: int) -> str:
        """A path DuckDB can read ``source``'s text from (``size`` bytes at most)."""
        read_end, write_end = os.pipe()
        thread = threading.Thread(
            target=_feed, args=(source, write_end, size), name=f"beatbook-pipe-{read_end}"
        )
        thread.daemon = True
        self._ends.append(read_end)
        self._threads.append(thread)
        thread.start()
        return f"/dev/fd/{read_end}"

    def close(self) -> None:
        for end in self._ends:
            os.close(end)
        for thread in self._threads:
            thread.join(timeout=30)
        self._ends, self._threads = [], []

    def __enter__(self) -> Pipes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _feed(source: Source, write_end: int, size: int) -> None:
    """Write ``source``'s text into the pipe, then close it (DuckDB sees the end of file)."""
    try:
        with os.fdopen(write_end, "wb") as out, source.open() as text:
            left = size
            while left > 0 and (chunk := text.read(min(CHUNK, left))):
                out.write(chunk)
                left -= len(chunk)
    except READ_ERRORS:  # the reader is gone (broken pipe) or the member changed since its scan
        pass
