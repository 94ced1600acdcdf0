"""The benchmark table: one row per compared pair, its ratio and the ratio's target."""
import json
import math
from dataclasses import asdict, dataclass, field
from typing import List, Optional

from asd_lib.utils.fileio import atomic_write

PASS, FAIL, INFO, SKIPPED = "PASS", "FAIL", "info", "skipped"


@dataclass
class Row:
    """``value`` (what we ship) against ``baseline``; ratio = value / baseline.

    ``target`` is ``(">=", x)`` or ``("<=", x)`` on the ratio, or ``None`` (information).
    A row with ``value`` None is skipped and says why in ``note``.
    """

    key: str
    measure: str
    unit: str
    value: Optional[float]
    value_label: str
    baseline: Optional[float]
    baseline_label: str
    target: Optional[tuple] = None
    note: str = ""
    ratio: Optional[float] = field(init=False, default=None)
    result: str = field(init=False, default=SKIPPED)

    def __post_init__(self):
        if self.value is None or self.baseline is None:
            return
        self.ratio = self.value / self.baseline if self.baseline > 0 else math.inf
        if self.target is None:
            self.result = INFO
            return
        op, bound = self.target
        met = self.ratio >= bound if op == ">=" else self.ratio <= bound
        self.result = PASS if met else FAIL


def _number(x: Optional[float]) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}"


def _figure(x: Optional[float], unit: str, label: str) -> str:
    return "-" if x is None else f"{_number(x)} {unit} ({label})"


def markdown_table(rows: List[Row]) -> str:
    """The rows as a Markdown table (figure, baseline, ratio, target, result)."""
    lines = ["| measure | figure | baseline | ratio | target | result |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        figure = _figure(r.value, r.unit, r.value_label)
        base = _figure(r.baseline, r.unit, r.baseline_label)
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        target = f"{r.target[0]} {r.target[1]:g}x" if r.target else "-"
        result = r.result + (f": {r.note}" if r.note else "")
        lines.append(f"| {r.measure} | {figure} | {base} | {ratio} | {target} | {result} |")
    return "\n".join(lines)


def write_json(path, rows: List[Row], context: dict) -> None:
    """``{"context": ..., "rows": [...]}`` written atomically."""
    with atomic_write(path) as f:
        json.dump({"context": context, "rows": [asdict(r) for r in rows]}, f, indent=2)
        f.write("\n")
