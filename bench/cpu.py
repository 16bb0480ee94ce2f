"""Where the cores go during a benchmark: CPU seconds per kind of process, read from /proc (Linux).

A rate alone says how fast; the CPU each kind of process spends per completion (the API server with
its evaluators, the worker, PostgreSQL, the clients) says why, and what the two cores of the target
machine could give at most: 2,000 ms / (total ms of CPU per completion)."""
from __future__ import annotations

import os
from pathlib import Path

#: Ancestors followed up from a process to find its root (a guard against a cycle in a racing /proc).
_MAX_DEPTH = 64
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used by the process itself) or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, ...
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS  # ppid, utime + stime


def _processes() -> dict[int, tuple[int, float, str]]:
    out: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None:
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        out[int(entry.name)] = (stat[0], stat[1], name)
    return out


def snapshot(roots: dict[str, list[int]], *, by_name: dict[str, str] | None = None) -> dict[int, tuple[str, float]]:
    """CPU seconds of every live process, labelled with the kind of the root it descends from (a
    gunicorn worker, an evaluator: their server's kind), or of its name in `by_name` (``postgres``)."""
    table = _processes()
    kind_of_root = {pid: kind for kind, pids in roots.items() for pid in pids}
    labelled: dict[int, tuple[str, float]] = {}
    for pid, (_ppid, cpu, name) in table.items():
        walk, kind, seen = pid, None, 0
        while walk in table and seen < _MAX_DEPTH:
            if walk in kind_of_root:
                kind = kind_of_root[walk]
                break
            walk, seen = table[walk][0], seen + 1
        if kind is None and by_name:
            kind = next((k for prefix, k in by_name.items() if name.startswith(prefix)), None)
        if kind is not None:
            labelled[pid] = (kind, cpu)
    return labelled


def spent(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per kind between two snapshots (a process born in between counts from zero)."""
    total: dict[str, float] = {}
    for pid, (kind, cpu) in after.items():
        total[kind] = total.get(kind, 0.0) + cpu - (before[pid][1] if pid in before else 0.0)
    return total
