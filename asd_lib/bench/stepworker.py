"""One training-step variant in a process of its own, driven over stdin.

Step options that act per process (the allocator: :func:`asd_lib.utils.cpu.keep_freed_memory`)
or cost minutes to prepare (``torch.compile``) are timed against a plain eager step by
running each variant in its own worker, one at a time, interleaved by the benchmark
(:func:`asd_lib.bench.stepoptions.step_option_rates`):

    python -m asd_lib.bench.stepworker --variant channels_last --batch_size 32 --clip_sec 2

builds STgram-MFN + ArcFace + Adam from ``--seed`` on random batches of that seed, runs one
warm-up step, prints ``ready``, then for every line ``run N`` on stdin runs N steps and
prints one JSON line: ``{"samples": n, "losses": [...]}``.

Variants (the training options of ``conf/*.yaml`` they stand for):

- ``eager``: plain PyTorch, as the papers' code runs it: NCHW, glibc's allocator as it is;
- ``channels_last``: ``channels_last: true`` with the recipe's process settings (on a CPU,
  freed memory kept for reuse);
- ``compile``: ``compile: true`` (``torch.compile`` of the model) with the same settings.
"""
import argparse
import json
import sys
from typing import List

import torch

from asd_lib.bench.steps import TrainSetup, build_setup
from asd_lib.train.precision import compile_module, set_memory_format
from asd_lib.utils.cpu import keep_freed_memory

VARIANTS = ("eager", "channels_last", "compile")
SAMPLE_RATE = 16000
NUM_CLASSES = 7


def make_variant(variant: str, num_samples: int, seed: int,
                 device: torch.device = torch.device("cpu")) -> TrainSetup:
    """The training setup of ``variant`` (see the module docstring), seeded alike."""
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}; choose one of {VARIANTS}")
    if variant != "eager" and device.type == "cpu":
        keep_freed_memory()
    setup = build_setup(num_samples, SAMPLE_RATE, NUM_CLASSES, device, seed)
    set_memory_format(setup.model, variant == "channels_last")
    compile_module(setup.model, variant == "compile")
    return setup


def random_batches(count: int, batch_size: int, num_samples: int, seed: int,
                   device: torch.device = torch.device("cpu")):
    """``count`` batches of quiet noise clips and class labels, the same for every seed,
    on ``device``."""
    generator = torch.Generator().manual_seed(seed)
    return [(0.1 * torch.randn(batch_size, num_samples, generator=generator).to(device),
             torch.randint(0, NUM_CLASSES, (batch_size,), generator=generator).to(device))
            for _ in range(count)]


def run_steps(setup: TrainSetup, batches, steps: int, start: int = 0) -> List[float]:
    """``steps`` optimiser steps over ``batches`` (cycled from index ``start``); the loss
    of each step (reading it waits for the device)."""
    setup.model.train()
    setup.head.train()
    losses = []
    for k in range(start, start + steps):
        before = float(setup.totals[0])
        setup.step(*batches[k % len(batches)])
        losses.append((float(setup.totals[0]) - before) / len(batches[0][1]))
    return losses


def main(cmd=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--clip_sec", type=float, default=2.0)
    parser.add_argument("--num_batches", type=int, default=2, help="distinct batches, cycled")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args(cmd)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    num_samples = int(args.clip_sec * SAMPLE_RATE)
    setup = make_variant(args.variant, num_samples, args.seed, device)
    batches = random_batches(args.num_batches, args.batch_size, num_samples, args.seed, device)
    done = len(run_steps(setup, batches, 1))  # warm-up (and compilation)
    print("ready", flush=True)
    for line in sys.stdin:
        steps = int(line.split()[1])
        losses = run_steps(setup, batches, steps, done)
        done += steps
        print(json.dumps({"samples": steps * args.batch_size, "losses": losses}), flush=True)


if __name__ == "__main__":
    main()
