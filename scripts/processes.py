"""A process's children and all their descendants, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def child_pids(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    found = []
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    waiting = child_pids(pid)
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting += child_pids(child)
    return found
