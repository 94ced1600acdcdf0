"""Training-step options against a plain eager step, each in a worker process.

:func:`step_option_rates` starts one :mod:`asd_lib.bench.stepworker` per variant, all on
the same seed, batches and thread count, waits until each has warmed up (and compiled),
then asks them in turn (:func:`~asd_lib.bench.timing.interleaved_rates`) to run the same
steps, so that only one computes at a time. It returns every repeat's samples/s and the
losses of every step, which must agree across variants up to float rounding: the options
change how a step computes, not what.
"""
import json
import logging
import subprocess
import sys
from contextlib import ExitStack
from typing import Dict, List, Sequence

from asd_lib.bench.timing import interleaved_rates


class StepWorker:
    """A running :mod:`asd_lib.bench.stepworker` process."""

    def __init__(self, variant: str, batch_size: int, clip_sec: float, threads: int, seed: int,
                 device: str):
        self.variant = variant
        self.process = subprocess.Popen(
            [sys.executable, "-m", "asd_lib.bench.stepworker", "--variant", variant,
             "--batch_size", str(batch_size), "--clip_sec", str(clip_sec),
             "--threads", str(threads), "--seed", str(seed), "--device", device],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def wait_ready(self) -> None:
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"step worker {self.variant!r} failed before its first step "
                               f"(exit {self.process.wait()}); its error is above")

    def run(self, steps: int) -> dict:
        self.process.stdin.write(f"run {steps}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"step worker {self.variant!r} exited ({self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def step_option_rates(variants: Sequence[str], batch_size: int, clip_sec: float, threads: int,
                      steps: int, repeats: int, seed: int = 0,
                      device: str = "cpu") -> Dict[str, dict]:
    """``{variant: {"rates": [samples/s per repeat], "losses": [per step]}}``."""
    with ExitStack() as stack:
        workers = []
        for variant in variants:  # one at a time: a compiling worker would slow the others
            logging.info("step options: preparing %s", variant)
            worker = StepWorker(variant, batch_size, clip_sec, threads, seed, device)
            stack.callback(worker.close)
            worker.wait_ready()
            workers.append(worker)
        losses: Dict[str, List[float]] = {}

        def variant(worker: StepWorker):
            def run() -> int:
                out = worker.run(steps)
                losses.setdefault(worker.variant, out["losses"])  # the first repeat's
                return out["samples"]
            return run
        rates = interleaved_rates({w.variant: variant(w) for w in workers}, repeats)
        results = {name: {"rates": rates[name], "losses": losses[name]} for name in rates}
        return results


def max_loss_difference(results: Dict[str, dict], baseline: str) -> Dict[str, float]:
    """Largest relative difference of each variant's first-repeat losses from the
    baseline's, step by step."""
    base: List[float] = results[baseline]["losses"]
    return {name: max(abs(a - b) / abs(b) for a, b in zip(r["losses"], base))
            for name, r in results.items() if name != baseline}
