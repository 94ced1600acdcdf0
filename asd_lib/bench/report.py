"""The benchmark table: one row per compared pair, its ratio and the ratio's target, and
the README block that shows it."""
import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from asd_lib.utils.fileio import atomic_write

PASS, FAIL, INFO, SKIPPED = "PASS", "FAIL", "info", "skipped"


@dataclass
class Row:
    """``value`` (what we ship) against ``baseline``; ratio = value / baseline, or the
    median of ``ratios`` (one per interleaved repeat) when given.

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
    ratios: Optional[List[float]] = None
    ratio: Optional[float] = field(init=False, default=None)
    result: str = field(init=False, default=SKIPPED)

    def __post_init__(self):
        if self.value is None or self.baseline is None:
            return
        if self.ratios:
            self.ratio = statistics.median(self.ratios)
        else:
            self.ratio = self.value / self.baseline if self.baseline > 0 else math.inf
        if self.target is None:
            self.result = INFO
            return
        op, bound = self.target
        met = self.ratio >= bound if op == ">=" else self.ratio <= bound
        self.result = PASS if met else FAIL


def paired_row(key: str, measure: str, unit: str, values: Sequence[float], value_label: str,
               baselines: Sequence[float], baseline_label: str, target: Optional[tuple] = None,
               note: str = "") -> Row:
    """A row of two interleaved variants: medians of each and the ratio of every repeat's
    pair (its median is the row's ratio; min and max show the noise)."""
    ratios = [v / b for v, b in zip(values, baselines)]
    return Row(key, measure, unit, statistics.median(values), value_label,
               statistics.median(baselines), baseline_label, target, note, ratios)


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
        if r.ratios and len(r.ratios) > 1:
            ratio += f" ({min(r.ratios):.2f}-{max(r.ratios):.2f})"
        target = f"{r.target[0]} {r.target[1]:g}x" if r.target else "-"
        result = r.result + (f": {r.note}" if r.note else "")
        lines.append(f"| {r.measure} | {figure} | {base} | {ratio} | {target} | {result} |")
    return "\n".join(lines)


def write_json(path, rows: List[Row], context: dict) -> None:
    """``{"context": ..., "rows": [...]}`` written atomically."""
    with atomic_write(path) as f:
        json.dump({"context": context, "rows": [asdict(r) for r in rows]}, f, indent=2)
        f.write("\n")


def readme_block(rows: List[Row], context: dict) -> str:
    """The README's table of one device type: what was measured where, then the rows."""
    facts, options = context["machine"], context["options"]
    gpu = f"{context['device']} with " if options["device"] == "cuda" else ""
    return (f"Measured by `make bench` on {facts['date']} on {gpu}{facts['cpu']} "
            f"({facts['cores']} usable cores, {options['num_threads']} torch threads), torch "
            f"{facts['torch']}, Python {facts['python']}. Each ratio is the median (min-max) "
            f"over {options['repeats']} interleaved repeats (inference: "
            f"{options['inference_repeats']}).\n\n" + markdown_table(rows))


def block_markers(device_type: str) -> tuple:
    """The README comments around the generated table of a device type (cpu, cuda)."""
    return (f"<!-- make bench ({device_type}): begin -->",
            f"<!-- make bench ({device_type}): end -->")


def replace_block(text: str, device_type: str, block: str) -> str:
    """``text`` with the lines between the device type's markers replaced by ``block``."""
    begin, end = block_markers(device_type)
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"expected one '{begin}' ... '{end}' pair; add both lines where the "
                         "table belongs")
    head, rest = text.split(begin)
    return f"{head}{begin}\n{block.strip()}\n{end}{rest.split(end, 1)[1]}"


def update_readme(path, device_type: str, block: str) -> None:
    """Write ``block`` between the device type's markers in the README at ``path``."""
    path = Path(path)
    text = replace_block(path.read_text(), device_type, block)
    with atomic_write(path) as f:
        f.write(text)
