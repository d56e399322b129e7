"""An SVG Gantt chart of simulated schedules: tasks as rows, jobs as bars, misses marked.

Render only: it draws ``sched.sim.SimResult`` values (one per core) and decides nothing.
The output is deterministic (no clock, fixed number formatting), so the same schedule
gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO
from xml.sax.saxutils import escape

from agentos_contracts.model.units import ns_to_ms_text
from agentos_contracts.sched.sim import SimResult

LABEL_W, PLOT_W, ROW_H, TOP, BOTTOM = 170, 900, 26, 58, 46
MISS = "#d62728"
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac", "#e15759")


def _nice_step(span_ns: int) -> int:
    """A round tick spacing giving about 10 ticks."""
    raw = max(1, span_ns // 10)
    mag = 1
    while mag * 10 <= raw:
        mag *= 10
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def render(title: str, lanes: Sequence[tuple[int, SimResult]], stream: TextIO) -> None:
    """Write one SVG document: each lane is (core, its simulation)."""
    rows = [(core, name) for core, sim in lanes for name in sim.tasks]
    end = max((sim.end_ns for _, sim in lanes), default=1)
    end = max(end, max((sim.horizon_ns for _, sim in lanes), default=1), 1)
    x = lambda t: LABEL_W + PLOT_W * t / end  # noqa: E731 - local scale
    height = TOP + ROW_H * len(rows) + BOTTOM
    width = LABEL_W + PLOT_W + 30
    colour = {name: PALETTE[n % len(PALETTE)] for n, (_, name) in enumerate(rows)}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<title>{escape(title)}</title>',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
           f'<text x="10" y="38" fill="#555">time in ms; ▲ release, | deadline, ✕ missed deadline '
           f'(red outline: the late job)</text>']
    step = _nice_step(end)
    base = TOP + ROW_H * len(rows)
    t = 0
    while t <= end:
        out.append(f'<line x1="{_f(x(t))}" y1="{TOP}" x2="{_f(x(t))}" y2="{base}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{_f(x(t))}" y="{base + 16}" text-anchor="middle" fill="#333">{ns_to_ms_text(t)}</text>')
        t += step
    for r, (core, name) in enumerate(rows):
        y = TOP + ROW_H * r
        label = f"core {core} · {name}" if len(lanes) > 1 else name
        out.append(f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<line x1="{LABEL_W}" y1="{y + ROW_H}" x2="{LABEL_W + PLOT_W}" y2="{y + ROW_H}" stroke="#ccc"/>')
    index = {(core, name): r for r, (core, name) in enumerate(rows)}
    for core, sim in lanes:
        late = {(j.task, j.index) for j in sim.misses}
        for seg in sim.segments:
            y = TOP + ROW_H * index[core, seg.task]
            stroke = f' stroke="{MISS}" stroke-width="2"' if (seg.task, seg.job) in late else ""
            w = max(x(seg.end_ns) - x(seg.start_ns), 0.5)
            out.append(f'<rect x="{_f(x(seg.start_ns))}" y="{y + 5}" width="{_f(w)}" height="{ROW_H - 10}" '
                       f'fill="{colour[seg.task]}"{stroke}><title>{escape(seg.task)} job {seg.job}: '
                       f'{ns_to_ms_text(seg.start_ns)}–{ns_to_ms_text(seg.end_ns)} ms</title></rect>')
        for job in sim.jobs:
            y = TOP + ROW_H * index[core, job.task]
            rx = x(job.release_ns)
            out.append(f'<path d="M{_f(rx - 4)},{y + ROW_H} L{_f(rx + 4)},{y + ROW_H} L{_f(rx)},{y + ROW_H - 7} Z" '
                       f'fill="#333"/>')
            if 0 <= job.deadline_ns <= end:
                dx = _f(x(job.deadline_ns))
                out.append(f'<line x1="{dx}" y1="{y + 2}" x2="{dx}" y2="{y + ROW_H - 2}" stroke="#333" stroke-width="1.5"/>')
            if (job.task, job.index) in late:
                mx, my = x(max(0, min(job.deadline_ns, end))), y + ROW_H / 2
                out.append(f'<path d="M{_f(mx - 6)},{_f(my - 6)} L{_f(mx + 6)},{_f(my + 6)} M{_f(mx - 6)},{_f(my + 6)} '
                           f'L{_f(mx + 6)},{_f(my - 6)}" stroke="{MISS}" stroke-width="3"><title>{escape(job.task)} '
                           f'job {job.index} missed its deadline at {ns_to_ms_text(job.deadline_ns)} ms</title></path>')
    out.append("</svg>")
    stream.write("\n".join(out) + "\n")
