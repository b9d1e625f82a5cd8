"""CPU seconds a server process has used, read from Linux's /proc, and what two readings make.

`make bench-sessions` reads each server process before and after every step all its sessions take
together, so that a step's cost is the processor time the server itself spent on it. The wall
clock would say how long the browsers waited, which on a shared machine is mostly how busy the
other programs kept the cores; the process's own CPU seconds are what a core must give it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuReading:
    """What a process had used when read: its own user and system time (every thread's), and
    that of its children it has waited for (the workbook reader runs in one)."""

    own_s: float
    children_s: float

    @property
    def total_s(self) -> float:
        return self.own_s + self.children_s


def parse_stat(text: str, ticks_per_second: int) -> CpuReading:
    """A reading from the text of /proc/PID/stat. The command name (in parentheses) may hold
    spaces and parentheses of its own, so the fields are counted after its last ")"."""
    fields = text.rsplit(")", 1)[1].split()
    # After the name: state is field 3 of proc(5), so utime (14) is index 11 here, then stime,
    # cutime and cstime.
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return CpuReading((utime + stime) / ticks_per_second, (cutime + cstime) / ticks_per_second)


def read_cpu(pid: int) -> CpuReading:
    """The process's CPU time so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return parse_stat(stat.read(), os.sysconf("SC_CLK_TCK"))


def cpu_between(before: CpuReading, after: CpuReading) -> float:
    """CPU seconds the process used between two readings."""
    return after.total_s - before.total_s


@dataclass(frozen=True)
class StepCost:
    """A step (page views, uploads) some sessions took: the CPU seconds the server spent on it
    and how many times it was done."""

    cpu_s: float
    count: int

    @property
    def cpu_per_each_s(self) -> float | None:
        """CPU seconds per view or per upload; None when none was done."""
        return self.cpu_s / self.count if self.count else None

    @property
    def per_core_second(self) -> float | None:
        """How many a core busy with nothing else would serve in a second; None when none was
        done or no CPU time was measured (the clock ticks 100 times a second: a step cheaper
        than that reads as 0)."""
        return self.count / self.cpu_s if self.count and self.cpu_s > 0 else None

    def __add__(self, other: StepCost) -> StepCost:
        return StepCost(self.cpu_s + other.cpu_s, self.count + other.count)

    def as_json(self) -> dict[str, float | int | None]:
        return {
            "cpu_s": self.cpu_s,
            "count": self.count,
            "cpu_per_each_s": self.cpu_per_each_s,
            "per_core_second": self.per_core_second,
        }


def total(costs: list[StepCost]) -> StepCost:
    """The steps together: their CPU seconds and counts summed (over processes or pages)."""
    return sum(costs, StepCost(0.0, 0))


def machine_share_busy(busy_s: float, wall_s: float, cores: int) -> float | None:
    """How much of the machine's cores were busy (0..1) while a step ran, from the CPU time every
    core spent busy (/proc/stat) and the wall time; None when no time passed."""
    return busy_s / (wall_s * cores) if wall_s > 0 and cores > 0 else None
