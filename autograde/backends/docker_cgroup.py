"""What the host reads of a running container from its cgroup (it goes with the container):
how many forks and threads its pids limit refused, and its processes' host pids."""

from __future__ import annotations

from pathlib import Path


class PidsWatch:
    """How many forks and threads the container's pids limit refused, read from its cgroup
    while it runs (the cgroup goes with the container). Silent where the file is not found."""

    ROOTS = ("/sys/fs/cgroup/pids/docker/{id}", "/sys/fs/cgroup/system.slice/docker-{id}.scope",
             "/sys/fs/cgroup/docker/{id}")

    def __init__(self, container_id: str) -> None:
        self.paths = [Path(root.format(id=container_id)) / "pids.events" for root in self.ROOTS]
        self.refused = 0

    def processes(self) -> list[int] | None:
        """The pids in the container's cgroup as the host numbers them (None: not found)."""
        for path in self.paths:
            try:
                text = path.with_name("cgroup.procs").read_text()
            except OSError:
                continue
            return [int(line) for line in text.split() if line.isdigit()]
        return None

    def poll(self) -> None:
        for path in self.paths:
            try:
                text = path.read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "max" and value.strip().isdigit():
                    self.refused = max(self.refused, int(value))
            return
