"""What another user of the machine sees of a running stack: every process's arguments (`ps`, /proc/<pid>/cmdline,
readable by all) and the permissions of the files it keeps."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def process_tree(*roots: int) -> set[int]:
    """`roots` and every process descended from them, from the process table."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):  # a process that ended meanwhile
                after_name = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(after_name[1])
    found = set(roots)
    while True:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        if not more:
            return found
        found |= more


def arguments(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def secrets_in_arguments(secrets: dict[str, str], roots: list[int]) -> list[str]:
    """Which secret shows in the arguments of which process of the trees under `roots` (none, we hope)."""
    assert secrets and all(secrets.values()), "no secret to look for"
    found = []
    for pid in sorted(process_tree(*roots)):
        command = arguments(pid)
        found += [f"{name} in the arguments of {pid} ({command[:60]}…)" for name, value in secrets.items()
                  if value in command]  # fmt: skip
    return found


def readable_by_others(directory: Path) -> list[str]:
    """`directory` and what is under it that its group or other users may read, write or enter (symbolic links and
    sockets aside: their own permissions mean nothing, their directory's do)."""
    paths = [directory, *directory.rglob("*")]
    loose = []
    for path in paths:
        info = path.lstat()
        aside = stat.S_ISLNK(info.st_mode) or stat.S_ISSOCK(info.st_mode)
        if not aside and stat.S_IMODE(info.st_mode) & 0o077:
            loose.append(f"{path.relative_to(directory)} {stat.S_IMODE(info.st_mode):o}")
    return loose


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)
