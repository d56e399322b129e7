"""Uniprocessor fixed-priority scheduling: exact response-time analysis and Audsley's OPA.

The analysis is Tindell's level-i busy-period analysis with release jitter and blocking,
valid for arbitrary deadlines: job q of task i (arriving at qT - J, job 0 released at 0)
completes at the least fixed point of

    w(q) = B_i + (q + 1)·C_i + Σ_{j ∈ hp(i)} ⌈(w(q) + J_j) / T_j⌉·C_j

and its response time from arrival is R(q) = w(q) - qT_i + J_i. Jobs are examined until
the busy period ends (w(q) ≤ release of job q + 1); checking only the first job
under-estimates when D > T (Lehoczky's example: 114 instead of 118). Measuring from
arrival is what makes jitter count against the deadline (R = w + J).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from agentos_contracts.model.tasks import Scheduler, Task
from agentos_contracts.sched.result import CoreResult, Interference, TaskResponse, Verdict

MAX_JOBS = 20_000  # jobs of one task enumerated in a busy period before giving up (verdict unknown)
NO_BOUND = 1 << 256  # a window bound larger than any window (U of the level too close to 1 to bound it)


@dataclass(frozen=True, slots=True)
class BusyResult:
    """Outcome of one task's busy-period analysis (internal shape of ``response_time``)."""

    response_ns: int | None  # None: unbounded, or too long to enumerate
    schedulable: bool | None  # None: undecided within MAX_JOBS
    job: int | None = None  # the worst job seen (the failing one when stopped at a miss)
    window_ns: int | None = None  # its w(q) (a lower bound when stopped early)
    note: str = ""


def priority_order(tasks: Sequence[Task], scheduler: Scheduler) -> list[Task]:
    """Highest priority first; ties keep document order (earlier is higher)."""
    index = {id(t): n for n, t in enumerate(tasks)}
    if scheduler is Scheduler.RM:
        return sorted(tasks, key=lambda t: (t.period_ns, index[id(t)]))
    if scheduler is Scheduler.DM:
        return sorted(tasks, key=lambda t: (t.deadline_ns, index[id(t)]))
    if scheduler is Scheduler.FP:
        missing = [t.name for t in tasks if t.priority is None]
        if missing:
            raise ValueError(f"scheduler FP needs a priority on every task; {missing[0]} has none")
        return sorted(tasks, key=lambda t: (t.priority, index[id(t)]))
    raise ValueError(f"{scheduler} is not a fixed-priority scheduler")


SCALE = 1 << 96  # utilisation sums are kept as integer brackets of U·SCALE (see ``Level``)


class Level:
    """The higher-priority tasks of a level, kept in the shapes the busy-window iteration wants.

    Tasks are sorted by T - J, so those that cannot release a second job inside a window
    of length ≤ ub (T - J ≥ ub) are a suffix contributing a constant ΣC; the iteration only
    walks the prefix. Built once per core and extended one task at a time.

    Utilisation sums are exact but not kept as ``Fraction``s: with thousands of distinct
    periods their denominators grow to thousands of digits and each addition costs a big gcd.
    Instead each sum is bracketed by integers, ⌊Σ⌋ ≤ Σ C/T·SCALE ≤ ⌈Σ⌉ (every term rounded
    down, resp. up); comparisons with 1 that the bracket cannot settle (U within n·2⁻⁹⁶
    of 1) fall back to the exact ``Fraction`` sum. Bounds derived from the brackets are
    rounded so that a lower bound stays below and an upper bound above the exact value.
    """

    __slots__ = ("keys", "terms", "periods", "u_lo", "u_hi", "ju_lo", "su_hi", "wcet_sum", "any_jitter", "tasks")

    def __init__(self) -> None:
        self.keys: list[int] = []  # T - J, ascending
        self.terms: list[tuple[int, int, int]] = []  # (J + T - 1, T, C): ⌈(w + J)/T⌉·C = (w + J + T - 1)//T·C
        self.periods: list[int] = []
        self.u_lo = 0  # ⌊Σ C/T·SCALE⌋ (termwise)
        self.u_hi = 0  # ⌈Σ C/T·SCALE⌉ (termwise)
        self.ju_lo = 0  # Σ J·U·SCALE rounded down: lower bound of the window
        self.su_hi = 0  # Σ (J + T - 1)·U·SCALE rounded up: upper bound of the window
        self.wcet_sum = 0
        self.any_jitter = False
        self.tasks: list[Task] = []

    def add(self, task: Task) -> None:
        key = task.period_ns - task.jitter_ns
        at = bisect.bisect_right(self.keys, key)
        self.keys.insert(at, key)
        p, c, j = task.period_ns, task.wcet_ns, task.jitter_ns
        self.terms.insert(at, (j + p - 1, p, c))
        self.periods.append(p)
        self.u_lo += c * SCALE // p
        self.u_hi -= -c * SCALE // p
        if j:
            self.ju_lo += j * c * SCALE // p
            self.any_jitter = True
        self.su_hi -= -(j + p - 1) * c * SCALE // p
        self.wcet_sum += c
        self.tasks.append(task)

    @property
    def utilization(self) -> Fraction:
        """The exact Σ C/T (slow for many distinct periods: only where the bracket cannot decide)."""
        return sum((t.utilization for t in self.tasks), Fraction(0))

    def compare_with_one(self, task: Task) -> int:
        """The sign of U(hp) + U(task) - 1, exactly."""
        lo = self.u_lo + task.wcet_ns * SCALE // task.period_ns
        hi = self.u_hi - (-task.wcet_ns * SCALE // task.period_ns)
        if lo > SCALE:
            return 1
        if hi < SCALE:
            return -1
        u = self.utilization + task.utilization
        return (u > 1) - (u < 1)

    def lower_window(self, base: int) -> int:
        """A lower bound of the window: (base + Σ J·U)/(1 - U) ≤ w* (needs U(hp) < 1)."""
        return -(-(base * SCALE + self.ju_lo) // (SCALE - self.u_lo))

    def upper_window(self, base: int) -> int | None:
        """An upper bound of the window, (base + Σ (J + T - 1)·U)/(1 - U), or None if U(hp) ≈ 1."""
        if self.u_hi >= SCALE:
            return None
        return -(-(base * SCALE + self.su_hi) // (SCALE - self.u_hi))

    @staticmethod
    def of(tasks: Sequence[Task]) -> "Level":
        lvl = Level()
        for t in tasks:
            lvl.add(t)
        return lvl


class _Window:
    """The higher-priority work Σ⌈(w + J)/T⌉·C kept current as the window w grows.

    Event-driven: a heap holds, per task, the point nT - J beyond which its job count steps
    up, so growing w touches only the tasks that release a job in the growth. Tasks with
    T - J ≥ ``ub`` release one job in any window up to ``ub`` and stay out of the heap
    until ``include_all``. Across the jobs of a busy period w only grows, so one window
    serves them all.
    """

    __slots__ = ("lvl", "w", "work", "heap", "cut")

    def __init__(self, lvl: Level, w0: int, ub: int) -> None:
        self.lvl, self.w = lvl, w0
        self.cut = bisect.bisect_left(lvl.keys, ub)
        self.work = lvl.wcet_sum
        heap: list[tuple[int, int]] = []
        terms = lvl.terms
        for idx in range(self.cut):
            k, p, e = terms[idx]
            n = (w0 + k) // p
            if n > 1:
                self.work += (n - 1) * e
            heap.append((n * p + p - 1 - k, idx))  # the count steps up once w > nT - J
        heapq.heapify(heap)
        self.heap = heap

    def include_all(self) -> None:
        """Track every task (valid while w ≤ ub: the others still have one job each)."""
        for idx in range(self.cut, len(self.lvl.terms)):
            heapq.heappush(self.heap, (self.lvl.keys[idx], idx))
        self.cut = len(self.lvl.terms)

    def grow(self, w: int) -> None:
        heap, terms = self.heap, self.lvl.terms
        while heap and heap[0][0] < w:
            thr, idx = heap[0]
            _, p, e = terms[idx]
            self.work += e
            heapq.heapreplace(heap, (thr + p, idx))
        self.w = w

    def fixed_point(self, base: int, w0: int, limit: int | None = None) -> int:
        """Least w ≥ w0 with w = base + work(w), given w0 ≤ that fixed point.

        With ``limit``, stops early once w exceeds it (then w is only a lower bound).
        """
        self.grow(max(w0, self.w))
        while base + self.work != self.w:
            if limit is not None and self.w > limit:
                break
            self.grow(base + self.work)
        return self.w


class _Sweep:
    """One window Σ⌈(w + J)/T⌉·C shared by every level of a core, grown monotonically.

    In priority order the windows only grow: job 0 of task i+1 sees everything task i saw
    plus task i itself, so its least fixed point is at least the level-i busy period (where
    task i's analysis left w), provided B_{i+1} + C_{i+1} ≥ B_i (``valid_for``). The sweep
    keeps w and the work at w across levels; adding a task costs one heap push, and growing
    pops only the job releases in the growth, so a whole core costs about one heap operation
    per job released before the longest window instead of one rebuild per task. Tasks with
    the same (T, J) share one heap entry with their summed C (fleet-sized sets repeat periods).
    """

    __slots__ = ("w", "work", "heap", "groups", "periods", "wcets", "floor_b")

    def __init__(self) -> None:
        self.w = 0
        self.work = 0
        self.heap: list[tuple[int, int]] = []
        self.groups: dict[tuple[int, int], int] = {}  # (J + T - 1, T) -> index into periods / wcets
        self.periods: list[int] = []
        self.wcets: list[int] = []
        self.floor_b = 0  # blocking of the task that last grew w: w ≤ its level busy period

    def valid_for(self, task: Task) -> bool:
        """True when the current w is a lower bound of ``task``'s first window."""
        return task.blocking_ns + task.wcet_ns >= self.floor_b

    def add(self, task: Task) -> None:
        """Count ``task``'s jobs released before the current w; it interferes with every later level."""
        k, p, e = task.jitter_ns + task.period_ns - 1, task.period_ns, task.wcet_ns
        n = (self.w + k) // p if self.w > 0 else 0
        self.work += n * e
        idx = self.groups.get((k, p))
        if idx is not None:
            self.wcets[idx] += e
            return
        idx = len(self.periods)
        self.groups[(k, p)] = idx
        self.periods.append(p)
        self.wcets.append(e)
        heapq.heappush(self.heap, (n * p + p - 1 - k, idx))  # the count steps up once w > nT - J

    def include_all(self) -> None:
        """Every task is always tracked (``_Window`` compatibility)."""

    def grow(self, w: int) -> None:
        heap, periods, wcets = self.heap, self.periods, self.wcets
        work = self.work
        while heap and heap[0][0] < w:
            thr, idx = heap[0]
            work += wcets[idx]
            heapq.heapreplace(heap, (thr + periods[idx], idx))
        self.work = work
        self.w = w

    fixed_point = _Window.fixed_point


def _fits(lvl: Level, base: int, t: int) -> bool:
    """W(t) ≤ t: the level's work released before t fits, so the least fixed point is ≤ t."""
    if t <= 0:
        return False
    return base + sum([(t + k) // p * e for k, p, e in lvl.terms]) <= t


def response_time(task: Task, hp: Sequence[Task] | Level, *, stop_at_miss: bool = False,
                  max_jobs: int = MAX_JOBS, sweep: _Sweep | None = None) -> BusyResult:
    """Exact worst-case response time of ``task`` below the higher-priority tasks ``hp``.

    With ``stop_at_miss`` only the verdict counts: the first deadline miss ends the search,
    and a task whose response-time upper bound meets its deadline is accepted without R.
    ``sweep`` (holding exactly ``hp`` and valid for ``task``) replaces a fresh window.
    """
    lvl = hp if isinstance(hp, Level) else Level.of(hp)
    c, t_i, d, j_i, b = task.wcet_ns, task.period_ns, task.deadline_ns, task.jitter_ns, task.blocking_ns
    sign = lvl.compare_with_one(task)
    if sign > 0:
        return BusyResult(None, False, note="higher- and equal-priority utilisation exceeds 1: the busy period never ends")
    # with U = 1 and jitter or blocking the busy period never ends, but from time 0 on the
    # releases repeat every hyperperiod and so do the response times: jobs released in
    # (0, H] cover every case (see docs/sched.md)
    periodic_limit: int | None = None
    if sign == 0 and (b or j_i or lvl.any_jitter):
        periodic_limit = math.lcm(t_i, *lvl.periods)
    worst_r: int | None = None
    worst_q, worst_w = 0, 0
    window: _Window | None = None
    w = 0
    q = 0
    while True:
        if q >= max_jobs:
            missed = worst_r is not None and worst_r > d
            return BusyResult(None, False if missed else None, worst_q if missed else None, None,
                              note=f"busy period longer than {max_jobs} jobs of `{task.name}`; not enumerated")
        base = b + (q + 1) * c
        # the least fixed point w* lies in [lb, ub]: ⌈x⌉ ≥ x gives lb, ⌈a/T⌉ ≤ (a + T - 1)/T gives ub,
        # and iterating from any start ≤ w* reaches w*
        w0 = max(w + c, base + lvl.wcet_sum, lvl.lower_window(base))
        if window is None:
            ub = lvl.upper_window(base)
            if ub is None:
                ub = NO_BOUND
            # with a sweep, W(D - J) costs more than the fixed point itself
            if stop_at_miss and d <= t_i and (ub + j_i <= d or (sweep is None and _fits(lvl, base, d - j_i))):
                # verdict only: w* ≤ D - J ≤ T - J, so R ≤ D and the busy period ends with job 0
                return BusyResult(None, True, note="accepted without computing R")
            window = _Window(lvl, w0, ub) if sweep is None else sweep
        elif q == 1:
            window.include_all()
        limit = d + q * t_i - j_i if stop_at_miss else None
        w = window.fixed_point(base, w0, limit)
        if limit is not None and w > limit:
            return BusyResult(None, False, q, w, note="stopped at the first deadline miss")
        r = w - q * t_i + j_i
        if worst_r is None or r > worst_r:
            worst_r, worst_q, worst_w = r, q, w
        if stop_at_miss and r > d:
            return BusyResult(r, False, q, w, note="stopped at the first deadline miss")
        q += 1
        nxt_release = max(0, q * t_i - j_i)
        if w <= nxt_release:
            break
        if periodic_limit is not None and nxt_release > periodic_limit:
            break
    assert worst_r is not None
    return BusyResult(worst_r, worst_r <= d, worst_q, worst_w)


def explain(task: Task, hp: Sequence[Task], result: BusyResult, core: int) -> TaskResponse:
    """The task's outcome with the work inside its worst job's window, per higher-priority task."""
    interference: tuple[Interference, ...] = ()
    own = 0
    if result.response_ns is not None and result.window_ns is not None and result.job is not None \
            and result.schedulable is not True:  # only failures need the detail
        w = result.window_ns
        interference = tuple(Interference(task=h.name, jobs=h.rbf(w) // h.wcet_ns, work_ns=h.rbf(w)) for h in hp)
        own = (result.job + 1) * task.wcet_ns
    return TaskResponse(name=task.name, core=core, deadline_ns=task.deadline_ns, period_ns=task.period_ns,
                        wcet_ns=task.wcet_ns, jitter_ns=task.jitter_ns, response_time_ns=result.response_ns, schedulable=result.schedulable,
                        job=result.job, window_ns=result.window_ns if result.response_ns is not None else None,
                        blocking_ns=task.blocking_ns, own_ns=own, interference=interference, note=result.note)


def analyse_order(ordered: Sequence[Task], core: int = 0, *, stop_at_miss: bool = False,
                  max_jobs: int = MAX_JOBS) -> CoreResult:
    """Exact RTA of tasks given highest priority first."""
    out: list[TaskResponse] = []
    lvl = Level()
    sweep = _Sweep()
    for n, task in enumerate(ordered):
        valid = sweep.valid_for(task)
        before = sweep.w
        res = response_time(task, lvl, stop_at_miss=stop_at_miss, max_jobs=max_jobs,
                            sweep=sweep if valid else None)
        if valid and sweep.w != before:
            sweep.floor_b = task.blocking_ns
        out.append(explain(task, ordered[:n] if res.schedulable is not True else (), res, core))
        lvl.add(task)
        sweep.add(task)
        if stop_at_miss and res.schedulable is False:
            break
    verdict = combine(r.schedulable for r in out)
    reason = ""
    if verdict is Verdict.UNSCHEDULABLE:
        bad = next(r for r in out if r.schedulable is False)
        reason = f"task `{bad.name}` misses its deadline"
    elif verdict is Verdict.UNKNOWN:
        bad = next(r for r in out if r.schedulable is None)
        reason = bad.note
    return CoreResult(core=core, verdict=verdict, tasks=tuple(out), reason=reason)


def combine(flags: object) -> Verdict:
    """All true → schedulable; any false → unschedulable; otherwise unknown."""
    seen = list(flags)  # type: ignore[call-overload]
    if any(f is False for f in seen):
        return Verdict.UNSCHEDULABLE
    if all(f is True for f in seen):
        return Verdict.SCHEDULABLE
    return Verdict.UNKNOWN


def analyse(tasks: Sequence[Task], scheduler: Scheduler, core: int = 0, *,
            stop_at_miss: bool = False) -> CoreResult:
    """The exact test for one core under RM, DM or explicit priorities."""
    return analyse_order(priority_order(tasks, scheduler), core, stop_at_miss=stop_at_miss)


def is_schedulable(tasks: Sequence[Task], scheduler: Scheduler) -> bool:
    """Exact verdict only (stops at the first miss); unknown counts as not schedulable."""
    return analyse(tasks, scheduler, stop_at_miss=True).verdict is Verdict.SCHEDULABLE


def audsley(tasks: Sequence[Task]) -> list[Task] | None:
    """Audsley's optimal priority assignment over the exact RTA (highest first), or None.

    RTA with jitter and blocking is OPA-compatible (a task's response time depends on the
    set of higher-priority tasks, not their order), so None means no fixed-priority order
    makes the set schedulable. At each level the candidate with the longest deadline is
    tried first, so the answer stays close to deadline-monotonic order.
    """
    index = {id(t): n for n, t in enumerate(tasks)}
    left = sorted(tasks, key=lambda t: (-t.deadline_ns, -t.period_ns, -index[id(t)]))
    lowest_first: list[Task] = []
    while left:
        for cand in left:
            others = [t for t in left if t is not cand]
            if response_time(cand, others, stop_at_miss=True).schedulable is True:
                lowest_first.append(cand)
                left = others
                break
        else:
            return None
    return lowest_first[::-1]
