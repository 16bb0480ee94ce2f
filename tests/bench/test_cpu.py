"""bench/cpu.py: CPU seconds are labelled with the kind of the root a process descends from."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench import cpu

# A parent that starts a child, and both spend 0.3 s of their own CPU (process time, not wall time).
_BURN = "import time\nwhile time.process_time() < 0.3:\n    pass\n"
_PARENT = (
    "import subprocess, sys\n"
    f"child = subprocess.Popen([sys.executable, '-c', {_BURN!r}])\n"
    + _BURN
    + "child.wait()\n"
    "sys.stdin.readline()\n"
)


def test_a_process_and_its_children_are_counted_under_its_kind() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdin=subprocess.PIPE, text=True)  # noqa: S603
    try:
        before = cpu.snapshot({"server": []})  # nothing of ours yet
        during: dict[int, tuple[str, float]] = {}
        while parent.poll() is None:
            snapshot = cpu.snapshot({"server": [parent.pid]})
            labelled = [pid for pid, (kind, _cpu) in snapshot.items() if kind == "server"]
            if len(labelled) == 2 and all(snapshot[pid][1] >= 0.25 for pid in labelled):  # noqa: PLR2004
                during = snapshot
                break
        assert during, "the parent and its child were never both seen with their CPU"
        spent = cpu.spent(before, during)
        assert set(spent) == {"server"}
        assert spent["server"] >= 0.5  # noqa: PLR2004 - two processes of at least 0.25 s each
    finally:
        if parent.stdin is not None:
            parent.stdin.write("\n")
            parent.stdin.close()
        parent.wait(10)


def test_processes_outside_every_root_are_left_out_unless_named() -> None:
    name = Path("/proc/self/comm").read_text().strip()  # this test runner's process name
    named = cpu.snapshot({"tests": []}, by_name={name: "this runner"})
    assert os.getpid() in named
    assert all(kind == "this runner" for kind, _cpu in named.values())
    assert os.getpid() not in cpu.snapshot({"tests": []})
