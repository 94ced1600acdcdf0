"""Measure the data path, training and inference on this machine; print a table of ratios.

    python -m asd_lib.bin.benchmark --out bench.json
    python -m asd_lib.bin.benchmark --clip_sec 2 --clips_per_id 2 --batch_size 4 --repeats 1

Makes a synthetic DCASE 2020 corpus in a temporary directory (stages 0-2 of the recipe)
and a --memory_factor times larger copy of it, then measures, each pair interleaved and
reported as the median (min-max of the ratio) over --repeats (the inference pair over
--inference_repeats):

  loader      clips/s of make_loader over the dump of the larger corpus vs a DataLoader
              that reads each wav and computes its log-mel on the CPU per item (the
              published pattern), same batch size and number of workers
  train step  samples/s of STgram-MFN training fed by make_loader vs on batches
              already on the device
  dump        clips/s of one stage-2 job vs merely reading the wavs (and vs copying
              their bytes to one synced file: the dump's I/O alone)
  inference   clips/s of stage 4 (folded, channels-last, compiled) in batches vs the model
              as trained one clip at a time, the ceiling on that ratio (matmul peak over
              batch 1's FLOP/s), and stage 4's FLOP/s as a share of the peak, which
              holds the target where the ceiling is below 5x
  step        samples/s of training steps with channels_last / compile vs a plain
              eager PyTorch step, batch --step_batch_size, each in a worker process
  contention  (CPU) a training epoch beside one busy process per usable core vs alone,
              over the slowdown a fair share of the cores gives
  memory      peak RSS of a training epoch on the larger corpus vs the corpus, each in
              a fresh process
  precision   (CUDA) bf16 autocast + channels-last vs fp32 training

and estimates the wall time of a full training schedule on one GPU from the FLOPs and
memory traffic counted per step. Prints a Markdown table with PASS/FAIL against each
ratio's target, writes it as JSON with --out and into README.md's block for this kind of
device with --readme README.md.
"""
import argparse
import logging
from dataclasses import fields

from asd_lib.bench.estimate import GpuSpec, Schedule
from asd_lib.bench.report import markdown_table, readme_block, update_readme, write_json
from asd_lib.bench.run import BenchOptions, estimate_text, run_benchmark
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import str2bool
from asd_lib.utils.log import setup_logging

DEFAULTS = BenchOptions()
SCHEDULE = Schedule()
GPU = GpuSpec()


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = parser.add_argument_group("sizes")
    sizes.add_argument("--clip_sec", type=float, default=DEFAULTS.clip_sec,
                       help="clip length in seconds")
    sizes.add_argument("--clips_per_id", type=int, default=DEFAULTS.clips_per_id,
                       help="training clips per machine ID (7 IDs)")
    sizes.add_argument("--batch_size", type=int, default=DEFAULTS.batch_size,
                       help="training and inference batch size")
    sizes.add_argument("--loader_batch_size", type=int, default=DEFAULTS.loader_batch_size,
                       help="batch size of the loader comparison (over the larger corpus)")
    sizes.add_argument("--infer_batch_size", type=int, default=DEFAULTS.infer_batch_size,
                       help="batched inference size (0: --batch_size)")
    sizes.add_argument("--repeats", type=int, default=DEFAULTS.repeats,
                       help="interleaved repetitions per measurement (median reported)")
    sizes.add_argument("--inference_repeats", type=int, default=DEFAULTS.inference_repeats,
                       help="interleaved repetitions of the inference pair (its batch-1 "
                       "pass is the noisiest measurement)")
    sizes.add_argument("--loader_seconds", type=float, default=DEFAULTS.loader_seconds,
                       help="minimum seconds per loader timing (whole epochs)")
    sizes.add_argument("--memory_factor", type=int, default=DEFAULTS.memory_factor,
                       help="the larger corpus (loader, dump, memory) is this many times "
                       "the training corpus")
    sizes.add_argument("--compile_inference", type=str2bool,
                       default=DEFAULTS.compile_inference,
                       help="batched inference with the decode option compile: true")
    step = parser.add_argument_group("training-step options")
    step.add_argument("--step_batch_size", type=int, default=DEFAULTS.step_batch_size,
                      help="batch size of the step comparison")
    step.add_argument("--step_clip_sec", type=float, default=DEFAULTS.step_clip_sec,
                      help="clip length of the step comparison")
    step.add_argument("--step_steps", type=int, default=DEFAULTS.step_steps,
                      help="steps per repeat and variant")
    step.add_argument("--compile_step", type=str2bool, default=DEFAULTS.compile_step,
                      help="also time a torch.compile'd step (compiling takes minutes)")
    run = parser.add_argument_group("run")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default=DEFAULTS.device,
                     help="auto: CUDA when available")
    run.add_argument("--num_workers", type=int, default=DEFAULTS.num_workers,
                     help="make_loader reader threads and naive-loader worker processes "
                     "(-1: min(4, usable cores))")
    run.add_argument("--num_threads", type=int, default=DEFAULTS.num_threads,
                     help="torch threads (0: every usable core)")
    run.add_argument("--seed", type=int, default=DEFAULTS.seed, help="corpus and model seed")
    run.add_argument("--work_dir", default=None,
                     help="where the temporary corpus goes (default: the system temp dir)")
    run.add_argument("--out", default=None, help="write the table and context as JSON here")
    run.add_argument("--readme", default=None,
                     help="write the table between this README's markers for the device "
                          "('<!-- make bench (cpu): begin -->' ... end)")
    est = parser.add_argument_group("schedule estimate")
    est.add_argument("--schedule_clips", type=int, default=SCHEDULE.clips,
                     help="training clips per epoch")
    est.add_argument("--schedule_epochs", type=int, default=SCHEDULE.epochs, help="epochs")
    est.add_argument("--schedule_batch_size", type=int, default=SCHEDULE.batch_size,
                     help="batch size")
    est.add_argument("--schedule_clip_sec", type=float, default=SCHEDULE.clip_sec,
                     help="clip seconds")
    est.add_argument("--gpu_name", default=GPU.name, help="GPU the estimate is for")
    est.add_argument("--gpu_fp32_tflops", type=float, default=GPU.fp32_tflops,
                     help="peak FP32 TFLOP/s")
    est.add_argument("--gpu_bf16_tflops", type=float, default=GPU.bf16_tflops,
                     help="peak dense BF16 TFLOP/s")
    est.add_argument("--gpu_bandwidth_tbs", type=float, default=GPU.bandwidth_tbs,
                     help="memory bandwidth, TB/s")
    est.add_argument("--gpu_efficiency", type=float, default=GPU.efficiency,
                     help="assumed achieved fraction of the roofline")
    parser.add_argument("--verbose", type=int, default=1, help="0: warnings, 1: info, 2: debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    schedule = Schedule(args.schedule_clips, args.schedule_epochs, args.schedule_batch_size,
                        args.schedule_clip_sec)
    gpu = GpuSpec(args.gpu_name, args.gpu_fp32_tflops, args.gpu_bf16_tflops,
                  args.gpu_bandwidth_tbs, args.gpu_efficiency)
    names = [f.name for f in fields(BenchOptions) if f.name not in ("schedule", "gpu")]
    options = BenchOptions(schedule=schedule, gpu=gpu, **{n: getattr(args, n) for n in names})
    rows, context = run_benchmark(options)
    print(f"Benchmark on {context['device']}\n")
    print(markdown_table(rows))
    print(f"\nEstimate for the full schedule on one GPU\n\n{estimate_text(context)}")
    if args.out:
        write_json(args.out, rows, context)
        logging.info("wrote %s", args.out)
    if args.readme:
        update_readme(args.readme, options.resolved().device, readme_block(rows, context))
        logging.info("wrote the table into %s", args.readme)


if __name__ == "__main__":
    run_main(main)
