"""Anomaly score and decision for new recordings of a trained machine type and section.

    python -m asd_lib.bin.detect --model exp/<tag> --machine fan --section id_00 a.wav b.wav
    python -m asd_lib.bin.detect --model exp/<tag> --scp wav.scp --utt2class utt2class
    python -m asd_lib.bin.detect --model exp/<tag> --onnx exp/<tag>/best.onnx ... (onnxruntime)

Prints one line per clip, ``<path or scp key> <score> <decision>`` (1: anomalous, 0: normal),
in input order. Clips are read and cut as stage 2 dumps them and scored as stage 4 scores
them; the decision threshold is stage 4's per-section one unless --threshold is given.
Run it from the recipe dir (paths in the experiment's config are relative to it).
"""
import argparse

from asd_lib.data.audio import SHORT_CLIP_MODES
from asd_lib.detect import TrainingClasses, assign_classes, detect, read_inputs
from asd_lib.inference import CSV_NAMES
from asd_lib.report.experiment import resolve_recipe_path
from asd_lib.utils.cli import run_main
from asd_lib.utils.config import read_saved_config
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wavs", nargs="*", help="wav files to score (or use --scp)")
    parser.add_argument("--scp", default=None, help="Kaldi wav.scp of the clips to score")
    parser.add_argument("--model", required=True, help="experiment dir exp/<tag> (stage 3)")
    parser.add_argument("--checkpoint", default="best", help="best, latest or epochN")
    parser.add_argument("--machine", default=None, help="machine type of every clip, e.g. fan")
    parser.add_argument("--section", default=None,
                        help="machine ID / section of every clip, e.g. id_00 or section_00")
    parser.add_argument("--utt2class", default=None,
                        help="file of 'key class' lines (key: the path or scp key; class: "
                             "a training class such as fan_id_00), instead of "
                             "--machine/--section")
    parser.add_argument("--threshold", type=float, default=None,
                        help="one decision threshold for all clips (default: stage 4's "
                             "per-section gamma threshold from the training scores)")
    parser.add_argument("--onnx", default=None,
                        help="score with this exported file on onnxruntime instead of PyTorch")
    parser.add_argument("--train_dir", default=None,
                        help="dumped training set (default: train_dir of the experiment's "
                             "config.yaml)")
    parser.add_argument("--dataset", default="dcase2020", choices=sorted(CSV_NAMES),
                        help="DCASE year of the experiment, as given to stage 4")
    parser.add_argument("--short_clip", default="tile", choices=SHORT_CLIP_MODES,
                        help="how a clip shorter than the model's input is lengthened "
                             "(as --short_clip of stage 2)")
    parser.add_argument("--ngpu", type=int, default=0, help="0: CPU, 1: one CUDA device")
    parser.add_argument("--batch_size", type=int, default=None,
                        help="clips per forward pass (default: infer_batch_size of the config)")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    train_dir = args.train_dir
    if train_dir is None:
        config = read_saved_config(f"{args.model}/config.yaml")
        train_dir = resolve_recipe_path(config["train_dir"], args.model)
    training = TrainingClasses(train_dir)
    inputs = read_inputs(args.wavs, args.scp)
    classes = assign_classes([key for key, _ in inputs], training, args.machine, args.section,
                             args.utt2class)
    results = detect(args.model, args.checkpoint, inputs, classes, training,
                     dataset=args.dataset, threshold=args.threshold,
                     short_clip=args.short_clip, onnx_path=args.onnx, ngpu=args.ngpu,
                     batch_size=args.batch_size)
    for result in results:
        print(f"{result.key} {result.score!r} {result.decision}")


if __name__ == "__main__":
    run_main(main)
