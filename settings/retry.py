"""How long to wait between the attempts of a call that may pass on a later try: one schedule for every retry
loop (the bridge's Bot API calls and its calls to Rasa, its start while Telegram is unreachable, the portal sync,
the supervisor restarting a crashed process). Each loop keeps what is its own: which errors it retries, when it
gives up, a wait the other side asks for (Telegram's `retry_after`, HTTP `Retry-After`).

Standard library only: the Rasa environment imports `settings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

_LONGEST_DOUBLING = 60  # 2**60 first waits is far past any cap; and floats cannot hold 2**1024


@dataclass(frozen=True)
class Backoff:
    """Wait `first` seconds after the first failure, twice as long after each further one, never more than `most`."""

    first: float = 1.0
    most: float = 30.0

    def delay(self, failures: int) -> float:
        """The wait after `failures` failures in a row (1 for the first)."""
        return min(self.most, self.first * 2 ** min(max(failures - 1, 0), _LONGEST_DOUBLING))

    def delays(self) -> Iterator[float]:
        """The waits after the first, second, third… failure, without end."""
        failures = 0
        while True:
            failures += 1
            yield self.delay(failures)
