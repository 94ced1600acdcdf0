"""The benchmark: a tiny end-to-end run (every row, finite positive figures) and its parts
(interleaving, ratios and targets, the roofline arithmetic, the corpus copy, the naive mel)."""
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from asd_lib.bench import run, steps, timing
from asd_lib.bench.contention import fair_slowdown
from asd_lib.bench.corpus import make_corpus, replicate
from asd_lib.bench.datapath import NaiveMelDataset
from asd_lib.bench.estimate import BACKWARD_FACTOR, GpuSpec, Schedule, roofline, step_costs
from asd_lib.bench.report import (
    FAIL,
    INFO,
    PASS,
    SKIPPED,
    Row,
    block_markers,
    markdown_table,
    paired_row,
    replace_block,
)
from asd_lib.bin import benchmark
from asd_lib.data.dataset import ArkReader
from asd_lib.frontends.mel import LogMel
from asd_lib.utils.cpu import usable_cores

ROWS = run.ROW_KEYS["cpu"]
INFO_ROWS = {"dump_copy", "dump_io", "inference_ceiling", "step_channels_last"}
INFERENCE_TARGETS = {"inference", "inference_share"}  # one of the two holds the target


def test_tiny_benchmark_run(tmp_path, capsys):
    out, readme = tmp_path / "bench.json", tmp_path / "README.md"
    readme.write_text("# x\n<!-- make bench (cpu): begin -->\nSTALE\n<!-- make bench (cpu): end -->\n"
                      "tail\n")
    benchmark.main(["--clip_sec", "0.25", "--clips_per_id", "1", "--batch_size", "2",
                    "--loader_batch_size", "4", "--repeats", "2", "--inference_repeats", "2",
                    "--loader_seconds", "0",
                    "--memory_factor", "2", "--num_workers", "1", "--num_threads", "1",
                    "--device", "cpu", "--schedule_clip_sec", "1", "--schedule_batch_size", "2",
                    "--step_batch_size", "2", "--step_clip_sec", "0.25", "--compile_step",
                    "false", "--infer_batch_size", "2", "--compile_inference", "false", "--work_dir", str(tmp_path), "--out", str(out),
                    "--readme", str(readme), "--verbose", "0"])
    report = json.loads(out.read_text())
    rows = {r["key"]: r for r in report["rows"]}
    assert [r["key"] for r in report["rows"]] == ROWS
    for key in set(ROWS) - {"step_compile"}:
        r = rows[key]
        for field in ("value", "baseline", "ratio"):
            assert math.isfinite(r[field]) and r[field] > 0, (key, field, r[field])
        if key in INFERENCE_TARGETS:
            assert r["result"] in (INFO, PASS, FAIL)
        else:
            assert r["result"] in ((INFO,) if key in INFO_ROWS else (PASS, FAIL))
        if r["ratios"]:  # interleaved pairs: the median of 2 repeats' ratios
            assert len(r["ratios"]) == 2 and r["ratio"] == pytest.approx(np.mean(r["ratios"]))
        else:
            assert r["ratio"] == pytest.approx(r["value"] / r["baseline"])
    assert sorted(rows[k]["result"] == INFO for k in INFERENCE_TARGETS) == [False, True]
    assert rows["step_compile"]["result"] == SKIPPED
    assert "losses within" in rows["step_channels_last"]["note"]
    cores = usable_cores()
    assert rows["contention"]["baseline"] == pytest.approx(fair_slowdown(1, cores, cores))
    estimate = report["context"]["estimate"]
    for key in ("gflop_per_clip", "traffic_mb_per_clip", "fp32_bound_hours", "bf16_planning_hours"):
        assert math.isfinite(estimate[key]) and estimate[key] > 0
    assert report["context"]["options"]["memory_factor"] == 2
    printed = capsys.readouterr().out
    assert "| measure | figure | baseline | ratio | target | result |" in printed
    assert printed.count("\n| ") == len(ROWS) + 1  # header and one line per row
    block = readme.read_text()
    assert block.startswith("# x\n<!-- make bench (cpu): begin -->\nMeasured by `make bench` on ")
    assert block.endswith("<!-- make bench (cpu): end -->\ntail\n") and "STALE" not in block
    assert block.count("\n| ") == len(ROWS) + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "bench.json"]


def test_bad_options_fail_before_measuring(tmp_path):
    with pytest.raises(ValueError, match="--batch_size 0"):
        benchmark.main(["--batch_size", "0", "--work_dir", str(tmp_path)])
    with pytest.raises(ValueError, match="--inference_repeats 0"):
        benchmark.main(["--inference_repeats", "0", "--work_dir", str(tmp_path)])
    with pytest.raises(ValueError, match="efficiency=1.5"):
        benchmark.main(["--gpu_efficiency", "1.5", "--work_dir", str(tmp_path)])


def test_interleaved_rates_alternate_and_take_the_median(monkeypatch):
    clock, calls = [0.0], []
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])

    def variant(name, seconds):
        durations = iter(seconds)

        def run():
            calls.append(name)
            clock[0] += next(durations)
            return 10
        return run

    rates = timing.interleaved_rates({"a": variant("a", [1.0, 5.0, 2.0]),
                                      "b": variant("b", [0.5, 0.5, 10.0])}, repeats=3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert rates == {"a": pytest.approx([10.0, 2.0, 5.0]), "b": pytest.approx([20.0, 20.0, 1.0])}
    assert timing.median(rates["a"]) == pytest.approx(5.0)  # 10 / median time


def test_rows_ratio_and_targets():
    rows = [Row("x", "x", "clips/s", 300.0, "ours", 10.0, "naive", (">=", 20.0)),
            Row("y", "y", "MiB", 1400.0, "4x", 1000.0, "1x", ("<=", 1.3)),
            Row("z", "z", "samples/s", 3.0, "bf16", 2.0, "fp32"),
            Row("w", "w", "samples/s", None, "", None, "", note="CUDA only")]
    assert [r.ratio for r in rows] == [30.0, 1.4, 1.5, None]
    assert [r.result for r in rows] == [PASS, FAIL, INFO, SKIPPED]
    table = markdown_table(rows).splitlines()
    assert table[2] == "| x | 300 clips/s (ours) | 10 clips/s (naive) | 30.00x | >= 20x | PASS |"
    assert table[5] == "| w | - | - | - | - | skipped: CUDA only |"


def test_paired_rows_report_the_median_and_range_of_the_ratios():
    row = paired_row("x", "x", "clips/s", [30.0, 60.0, 45.0], "ours", [10.0, 10.0, 30.0],
                     "naive", (">=", 2.0))
    assert row.ratios == pytest.approx([3.0, 6.0, 1.5]) and row.ratio == pytest.approx(3.0)
    assert (row.value, row.baseline, row.result) == (45.0, 10.0, PASS)
    assert markdown_table([row]).splitlines()[2] == \
        "| x | 45 clips/s (ours) | 10 clips/s (naive) | 3.00x (1.50-6.00) | >= 2x | PASS |"


def test_inference_target_is_a_share_of_the_ceiling_when_the_ceiling_is_low():
    # Batch 8 at 60 clips/s against batch 1 at 40: 1.5x. A device peak of 150 GFLOP/s
    # against the 50 GFLOP/s batch 1 reaches leaves at most 3x, so the target is 0.8 of the
    # ceiling: batched FLOP/s (75 GFLOP/s, half the peak) at least 0.8 of the peak.
    rates = {"batched": [60.0], "single": [40.0], "peak": [150e9]}
    inference, ceiling, share = run._inference_rows(rates, 1.25e9, batch_size=8, compiled=True)
    assert inference.value_label == "stage 4, batch 8, folded, channels-last, compile: true"
    assert (inference.ratio, inference.target, inference.result) == (pytest.approx(1.5), None, INFO)
    assert inference.note == "the ceiling is 3.00x: the target is on the share"
    assert (ceiling.ratio, ceiling.result) == (pytest.approx(3.0), INFO)
    assert ceiling.baseline_label == "batch 1: 1.25 GFLOP per clip"
    assert (share.value, share.baseline) == (pytest.approx(75.0), pytest.approx(150.0))
    assert (share.ratio, share.target, share.result) == (pytest.approx(0.5), (">=", 0.8), FAIL)
    assert share.note == "0.8 of the ceiling: 2.40x"
    # Each round's share pairs its own batched and peak rates; batch 1 drops out. Round 2
    # is slow for batch 1 only (its ratio 3.0x looks good), round 3 for the peak only.
    rounds = {"batched": [60.0, 60.0, 120.0], "single": [40.0, 20.0, 40.0],
              "peak": [150e9, 150e9, 150e9]}
    _, _, share = run._inference_rows(rounds, 1.25e9, batch_size=8, compiled=True)
    assert share.ratios == pytest.approx([0.5, 0.5, 1.0]) and share.result == FAIL
    # A device with room for 10x (a GPU at batch 1 waits on kernel launches): 5x it is.
    inference, _, share = run._inference_rows(dict(rates, peak=[500e9]), 1.25e9, batch_size=8,
                                              compiled=False)
    assert inference.target == (">=", 5.0) and inference.note == ""
    assert (share.target, share.result, share.note) == (None, INFO, "")


def test_fair_slowdown_by_hand():
    assert fair_slowdown(threads=2, cores=2, competing=2) == pytest.approx(2.0)  # 2 of 4 threads
    assert fair_slowdown(threads=1, cores=2, competing=2) == pytest.approx(1.5)  # 2/3 of a core
    assert fair_slowdown(threads=4, cores=16, competing=2) == 1.0  # cores to spare
    assert fair_slowdown(threads=8, cores=4, competing=4) == pytest.approx(1.5)  # 4 -> 8/3


def test_readme_block_is_replaced_between_its_markers():
    text = "a\n<!-- make bench (cpu): begin -->\nold\n<!-- make bench (cpu): end -->\nb\n"
    assert replace_block(text, "cpu", "new\n") == \
        "a\n<!-- make bench (cpu): begin -->\nnew\n<!-- make bench (cpu): end -->\nb\n"
    with pytest.raises(ValueError, match="make bench \\(cuda\\): begin"):
        replace_block(text, "cuda", "new")


def test_inference_flops_match_the_counted_training_forward():
    # The real-device count of one clip (model + a 128 x 7 ArcFace head) against the
    # meta-device count behind the schedule estimate (forward only, x 3 for backward).
    setup = steps.build_setup(8000, 16000, num_classes=7, device=torch.device("cpu"))
    batch = (torch.zeros(2, 8000, dtype=torch.int16), torch.tensor([0, 1]))
    forward = step_costs(8000, 16000, batch_size=2)[0] / BACKWARD_FACTOR
    assert steps.inference_flops(setup, [batch]) == pytest.approx(forward, rel=1e-3)
    matmuls = steps.matmuls(torch.device("cpu"))
    assert matmuls() == 2 * 2048 ** 3 * 2  # two 2048 x 2048 products


def test_roofline_arithmetic():
    # fp32: max(3e9 / 67e12, 6e8 / 3.35e12) = 1.791e-4 s per clip (memory-bound);
    # bf16: max(3e9 / 989e12, 3e8 / 3.35e12) = 8.955e-5 s.
    result = roofline(3e9, 6e8, Schedule(clips=40000, epochs=300), GpuSpec(efficiency=0.25))
    per_clip = 6e8 / 3.35e12
    assert result["fp32_bound_clips_per_s"] == pytest.approx(1 / per_clip)
    assert result["fp32_bound_hours"] == pytest.approx(12e6 * per_clip / 3600)  # 0.597 h
    assert result["bf16_bound_hours"] == pytest.approx(12e6 * per_clip / 2 / 3600)
    assert result["bf16_planning_hours"] == pytest.approx(4 * result["bf16_bound_hours"])
    assert result["fp32_limit"] == result["bf16_limit"] == "memory"
    compute_bound = roofline(1e12, 1.0, Schedule(clips=1, epochs=1), GpuSpec(fp32_tflops=1.0))
    assert compute_bound["fp32_bound_clips_per_s"] == pytest.approx(1.0)
    assert compute_bound["fp32_limit"] == "compute"


def test_corpus_and_replica_read_the_same_clips(tmp_path):
    corpus = make_corpus(tmp_path, clip_sec=0.1, clips_per_id=1)
    assert (len(corpus.locations), corpus.num_classes, corpus.num_samples) == (7, 7, 1600)
    assert sorted(corpus.labels) == list(range(7))
    larger = replicate(corpus, 3, tmp_path / "larger")
    assert len(larger.locations) == 21 and larger.labels == corpus.labels * 3
    small, big = ArkReader(corpus.locations), ArkReader(larger.locations)
    copies = [f"{tmp_path}/larger/copy{k}/{os.path.basename(p)}" for k in range(3)
              for p in corpus.wav_paths]
    assert big.paths == copies and larger.wav_paths == copies  # distinct files, in place
    for path in copies:
        assert not os.path.samefile(path, corpus.wav_paths[copies.index(path) % 7])
    for i in range(21):
        np.testing.assert_array_equal(big.read(i), small.read(i % 7))


def test_naive_dataset_computes_the_stgram_log_mel(tmp_path):
    import soundfile as sf

    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)).astype(np.float32)
    sf.write(tmp_path / "a.wav", x, 16000, subtype="FLOAT")
    wave, log_mel, label = NaiveMelDataset([str(tmp_path / "a.wav")], [4])[0]
    assert label == 4 and log_mel.shape == (128, 16)  # 1 + 8000 // 512 frames
    expected = LogMel(sample_rate=16000)(torch.from_numpy(x)[None])[0]
    torch.testing.assert_close(log_mel, expected)


def fabricated_rates(device_type: str) -> dict:
    """Rates in the shape run_benchmark measures them, 1.0 everywhere."""
    one = [1.0, 1.0]
    step = {"rates": one, "losses": [1.0, 1.0]}
    rates = {"loader": {"loader": one, "naive": one},
             "train_step": {"loader": one, "model_only": one},
             "dump": {k: one for k in ("dump", "dump_copy", "read", "copy")},
             "inference": {"batched": one, "single": one, "peak": one},
             "inference_flop_per_clip": 1.0,
             "step_options": {v: step for v in ("eager", "channels_last", "compile")},
             "memory": {"1x": 1.0, "4x": 1.0}}
    if device_type == "cpu":
        rates["contention"] = {"alone": one, "beside": one, "competing": 2,
                              "fair_slowdown": 2.0}
    else:
        rates["precision"] = {"fp32": one, "bf16": one}
    return rates


@pytest.mark.parametrize("device_type", ["cpu", "cuda"])
def test_readme_blocks_hold_the_rows_the_benchmark_measures(device_type):
    """The README's generated block of each device type is either a placeholder (nothing
    measured there yet) or a table with exactly the benchmark's rows, in order, and the
    facts of the run that made it."""
    options = run.BenchOptions(device="cpu", num_threads=1, num_workers=1).resolved()
    measures = [r.measure for r in run._rows(fabricated_rates(device_type), options,
                                             device_type)]
    assert [r.key for r in run._rows(fabricated_rates(device_type), options, device_type)] \
        == run.ROW_KEYS[device_type]
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    begin, end = block_markers(device_type)
    block = text.split(begin)[1].split(end)[0]
    lines = [line for line in block.splitlines() if line.startswith("| ")]
    if not lines:
        assert "Not measured" in block
        assert device_type == "cuda", "the CPU table is missing: run make bench"
        return
    assert [line.split(" | ")[0][2:] for line in lines[1:]] == measures
    assert re.search(r"Measured by `make bench` on \d{4}-\d\d-\d\d on .+ \(\d+ usable cores, "
                     r"\d+ torch threads\), torch \S+, Python \S+\. Each ratio is the median "
                     r"\(min-max\) over \d+ interleaved repeats \(inference: \d+\)\.", block)
