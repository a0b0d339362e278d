"""One line on how a corpus's generation is going: shards done, examples/s, rejected draws by reason, ETA.

On a terminal the line is rewritten in place; elsewhere (a cluster job's log file) it is printed as a plain line
now and then, so the log stays readable and still says how far the job got.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

EVERY_S = 30.0
"""Seconds between two plain progress lines when stderr is not a terminal."""


class Progress:
    """Progress of `total` shards of which `done` were finished before this run (those count towards the shards
    done, not towards the speed)."""

    def __init__(
        self,
        label: str,
        total: int,
        done: int,
        stream: TextIO | None = None,
        every: float = EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.done, self.failed = label, total, done, 0
        self.stream = sys.stderr if stream is None else stream
        self.in_place = self.stream.isatty()
        self.every, self.clock = every, clock
        self.started = clock()
        self.printed_at: float | None = None  # when the current state was last printed (None: not yet)
        self.written, self.examples = 0, 0  # shards and examples of this run
        self.rejected: dict[str, int] = {}
        self.width = 0
        self.pending = False

    def update(self, stats: dict[str, Any] | None) -> None:
        """A shard finished with these statistics (None: it failed)."""
        if stats is None:
            self.failed += 1
        else:
            self.done += 1
            self.written += 1
            self.examples += int(stats["examples"])
            for kind, count in stats.items():
                if kind not in ("examples", "seconds"):
                    self.rejected[kind] = self.rejected.get(kind, 0) + int(count)
        now = self.clock()
        if self.in_place or self.printed_at is None or now - self.printed_at >= self.every:
            self._print(now)
        else:
            self.pending = True  # shown at the next line due, or at close

    def line(self) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rejected = ", ".join(f"{kind} {count:,}" for kind, count in sorted(self.rejected.items()) if count)
        left = self.total - self.done - self.failed  # still to write in this run
        if not left:
            eta = "done"
        elif self.written:
            eta = f"ETA {_duration(elapsed / self.written * left)}"
        else:
            eta = "ETA unknown"
        failed = f" | {self.failed} failed" if self.failed else ""
        return (
            f"{self.label}: shards {self.done}/{self.total}{failed} | {self.examples / elapsed:,.0f} examples/s | "
            f"rejected: {rejected or 'none'} | {eta}"
        )

    def close(self) -> None:
        """The last state, if not shown yet; on a terminal, the line is left as it is, and the cursor below it."""
        if self.pending:
            self._print(self.clock())
        if self.in_place and self.width:
            self.stream.write("\n")
            self.stream.flush()

    def _print(self, now: float) -> None:
        line = self.line()
        if self.in_place:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = max(self.width, len(line))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.printed_at, self.pending = now, False


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
