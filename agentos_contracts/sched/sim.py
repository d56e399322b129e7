"""A preemptive discrete-event simulator for one core: the cross-check for the analyses.

Releases follow the worst-case pattern of documents.md: job k of a task arrives at
kT - J and is released at max(0, kT - J), so job 0 arrives at -J and is released at 0
(a plain synchronous release would under-approximate jitter). Deadlines and response
times count from arrival. Run until the first idle instant this covers the synchronous
busy period, where every worst case of the exact tests lies; the ``horizon`` mode
simulates a hyperperiod for the Gantt chart.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from agentos_contracts.model.tasks import Scheduler, Task, hyperperiod
from agentos_contracts.sched import fp

MAX_JOBS = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SimJob:
    task: str
    index: int
    arrival_ns: int
    release_ns: int
    deadline_ns: int  # absolute
    finish_ns: int | None  # None: unfinished when the simulation stopped

    @property
    def response_ns(self) -> int | None:
        return None if self.finish_ns is None else self.finish_ns - self.arrival_ns

    @property
    def missed(self) -> bool:
        return self.finish_ns is None or self.finish_ns > self.deadline_ns


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    task: str
    job: int
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SimResult:
    """What happened; ``refused`` says why nothing was simulated (too many jobs)."""

    scheduler: str
    tasks: tuple[str, ...]  # row order: priority order for FP, input order for EDF
    horizon_ns: int
    end_ns: int
    jobs: tuple[SimJob, ...] = ()
    segments: tuple[Segment, ...] = ()
    idle_reached: bool = False
    refused: str = ""

    def max_response(self, task: str) -> int | None:
        rs = [j.response_ns for j in self.jobs if j.task == task and j.response_ns is not None]
        return max(rs) if rs else None

    @property
    def misses(self) -> tuple[SimJob, ...]:
        """Jobs that finished late, or were unfinished past their deadline when the run stopped."""
        return tuple(j for j in self.jobs if (j.finish_ns is not None and j.finish_ns > j.deadline_ns)
                     or (j.finish_ns is None and j.deadline_ns < self.end_ns))


def estimate_jobs(tasks: Sequence[Task], horizon_ns: int) -> int:
    return sum(-(-(horizon_ns + t.jitter_ns) // t.period_ns) for t in tasks)


def simulate(tasks: Sequence[Task], scheduler: Scheduler, *, horizon_ns: int | None = None,
             until_idle: bool = False, max_jobs: int = MAX_JOBS) -> SimResult:
    """Simulate releases before ``horizon_ns`` (default: one hyperperiod plus the largest jitter).

    With ``until_idle`` releases continue until the core first goes idle (the synchronous
    busy period) instead; the run stops with ``refused`` once ``max_jobs`` jobs were released.
    """
    if scheduler is Scheduler.EDF:
        order = list(tasks)
    else:
        order = fp.priority_order(tasks, scheduler)
    names = tuple(t.name for t in order)
    if not until_idle and horizon_ns is None:
        h = hyperperiod(tasks)
        horizon_ns = h + max((t.jitter_ns for t in tasks), default=0)
    limit = horizon_ns if horizon_ns is not None else None
    if limit is not None:
        need = estimate_jobs(tasks, limit)
        if need > max_jobs:
            return SimResult(scheduler=scheduler.value, tasks=names, horizon_ns=limit, end_ns=0,
                             refused=f"simulating {_ms(limit)} ms needs {_count(need)} jobs; the limit is {max_jobs}")
    return _run(order, scheduler is Scheduler.EDF, names, limit, until_idle, max_jobs, scheduler.value)


def _ms(ns: int) -> str:
    """A window in ms for a message; a float cannot hold an astronomically long one."""
    return f"{ns / 1e6:g}" if ns < 10**300 else f"about 10^{len(str(ns)) - 7}"


def _count(n: int) -> str:
    return str(n) if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def _run(order: list[Task], edf: bool, names: tuple[str, ...], limit: int | None, until_idle: bool,
         max_jobs: int, label: str) -> SimResult:
    releases: list[tuple[int, int, int]] = [(0, n, 0) for n in range(len(order))]
    heapq.heapify(releases)
    ready: list[tuple[int, int, int, int]] = []  # (key, rank, job index, slot)
    remaining: list[int] = []
    info: list[tuple[int, int, int, int]] = []  # (rank, k, arrival, release)
    finish: list[int | None] = []
    segments: list[Segment] = []
    released = 0
    t = 0
    idle = False
    refused = ""
    while True:
        next_rel = releases[0][0] if releases and (limit is None or releases[0][0] < limit) else None
        if not ready:
            if until_idle and t > 0 and (next_rel is None or next_rel > t):
                idle = True
                break
            if next_rel is None:
                break
            t = max(t, next_rel)
        while releases and releases[0][0] <= t and (limit is None or releases[0][0] < limit):
            rel, rank, k = heapq.heappop(releases)
            task = order[rank]
            arrival = k * task.period_ns - task.jitter_ns
            slot = len(remaining)
            remaining.append(task.wcet_ns)
            info.append((rank, k, arrival, rel))
            finish.append(None)
            key = arrival + task.deadline_ns if edf else rank
            heapq.heappush(ready, (key, rank, k, slot))
            heapq.heappush(releases, (task.release_ns(k + 1), rank, k + 1))
            released += 1
        if released > max_jobs:
            refused = f"more than {max_jobs} jobs before the core went idle"
            break
        key, rank, k, slot = ready[0]
        next_rel = releases[0][0] if releases and (limit is None or releases[0][0] < limit) else None
        end = t + remaining[slot]
        if next_rel is not None and next_rel < end:
            end = next_rel
        remaining[slot] -= end - t
        if segments and segments[-1].end_ns == t and segments[-1].task == order[rank].name and segments[-1].job == k:
            segments[-1] = Segment(task=order[rank].name, job=k, start_ns=segments[-1].start_ns, end_ns=end)
        else:
            segments.append(Segment(task=order[rank].name, job=k, start_ns=t, end_ns=end))
        t = end
        if remaining[slot] == 0:
            heapq.heappop(ready)
            finish[slot] = t
    jobs = tuple(SimJob(task=order[r].name, index=k, arrival_ns=a, release_ns=rel,
                        deadline_ns=a + order[r].deadline_ns, finish_ns=finish[s])
                 for s, (r, k, a, rel) in enumerate(info))
    return SimResult(scheduler=label, tasks=names, horizon_ns=limit if limit is not None else t, end_ns=t,
                     jobs=jobs, segments=tuple(segments), idle_reached=idle, refused=refused)
