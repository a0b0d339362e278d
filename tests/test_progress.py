"""The generation's progress line: what it says, in place on a terminal, as occasional plain lines in a log."""

import io

from lit_math.data.progress import Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def shard(examples=1000, **rejected):
    return {"examples": examples, "seconds": 9.0, **rejected}


def test_the_line_says_shards_speed_rejections_by_reason_and_eta():
    clock = Clock()
    progress = Progress("out", total=10, done=2, stream=io.StringIO(), clock=clock)
    assert progress.line() == "out: shards 2/10 | 0 examples/s | rejected: none | ETA unknown"
    clock.now += 20
    progress.update(shard(timeout=3, invalid=0))
    progress.update(shard(timeout=1, invalid=2))
    progress.update(None)  # a failed shard: counted, not done
    # 2 shards written in 20 s, 5 still to write: 50 s; the shards done before this run do not count in the speed
    rejected = "rejected: invalid 2, timeout 4"
    assert progress.line() == f"out: shards 4/10 | 1 failed | 100 examples/s | {rejected} | ETA 50s"
    clock.now += 3580
    for _ in range(5):
        progress.update(shard())
    assert progress.line() == f"out: shards 9/10 | 1 failed | 2 examples/s | {rejected} | done"


def test_a_log_gets_a_plain_line_now_and_then_and_the_last_state():
    clock, log = Clock(), io.StringIO()
    progress = Progress("out", total=5, done=0, stream=log, every=30.0, clock=clock)
    for _ in range(4):  # at 10, 20, 30, 40 s: printed at 10 s (the first) and 40 s (30 s later)
        clock.now += 10
        progress.update(shard())
    clock.now += 10
    progress.update(shard())
    progress.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert [line.split(" | ")[0] for line in lines] == ["out: shards 1/5", "out: shards 4/5", "out: shards 5/5"]
    assert lines[-1].endswith("| done")


def test_a_terminal_gets_one_line_rewritten_in_place():
    clock, terminal = Clock(), Terminal()
    progress = Progress("out", total=2, done=0, stream=terminal, clock=clock)
    clock.now += 1
    progress.update(shard(timeout=12345))
    progress.update(shard())
    progress.close()
    text = terminal.getvalue()
    assert text.count("\r") == 2 and text.count("\n") == 1 and text.endswith("\n")
    first, second = text.strip("\n").split("\r")[1:]
    assert "shards 1/2" in first and "rejected: timeout 12,345" in first and "| ETA 1s" in first
    assert second.rstrip().endswith("| done") and len(second) >= len(first)  # padded: no end of the last one left
