"""What a page works out from the store, kept for a while per worker.

Some public figures take a second or more to work out (an area's page compares every crime
type with its district and force area) and are the same for every visitor until the data
change. :class:`PageCache` keeps each for :data:`~beatbook.settings.PAGE_CACHE_SECONDS`,
keyed by the version of the store file the request reads (``Database.version``), so an
import shows at the next request; what the team changes on the desk (a team name, a custom
area's wards) shows within that time. At most :data:`~beatbook.settings.PAGE_CACHE_ENTRIES`
are kept, the least recently used dropped first: the keys come from URLs, which anyone can
vary. A build that raises is not kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class PageCache:
    def __init__(self, seconds: float, entries: int) -> None:
        self.seconds, self.entries = seconds, entries
        self._kept: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()``'s value for ``key``: kept, or worked out now (outside the lock, so a slow
        build holds up no other page; two requests at once may both build it)."""
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(key)
            if found is not None and now - found[0] <= self.seconds:
                self._kept.move_to_end(key)
                return found[1]
        value = build()
        with self._lock:
            self._kept[key] = (now, value)
            self._kept.move_to_end(key)
            while len(self._kept) > self.entries:
                self._kept.popitem(last=False)
        return value
