"""Export a trained experiment (front-end + backbone + head + anomaly score) to ONNX.

    python -m asd_lib.bin.export_onnx --model exp/<tag> [--checkpoint best] [--out FILE] \
        [--inference_config conf/decode/neg_log_prob.yaml]

Inputs of the graph: ``waveform`` [B, T] (int16 PCM as dumped by stage 2, or float32 with
--input_dtype float32) and ``label`` [B] (class index, order of model_info.yaml); outputs:
``score`` [B] (the forward-pass score of the inference configuration given that class) and
``embedding`` [B, E]. The export is checked against PyTorch with onnxruntime before the
file is written. Score new clips with it: ``python -m asd_lib.bin.detect --inference_dir
exp/<tag>/<inference_tag> --onnx FILE ...``, which takes the best class of the section.
"""
import argparse
from pathlib import Path

from asd_lib.export import INPUT_DTYPES, export_onnx
from asd_lib.inference import InferenceConfig
from asd_lib.utils.cli import run_main
from asd_lib.utils.log import setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="experiment dir exp/<tag> (stage 3)")
    parser.add_argument("--checkpoint", default="best", help="best, latest or epochN")
    parser.add_argument("--out", default=None,
                        help="ONNX file to write (default: <model>/<checkpoint>.onnx)")
    parser.add_argument("--input_dtype", default="int16", choices=INPUT_DTYPES,
                        help="waveform type of the graph input")
    parser.add_argument("--inference_config", default=None,
                        help="inference config (conf/decode/*.yaml) with a forward-pass score "
                             "(default: neg_log_prob with the margin)")
    parser.add_argument("--verbose", type=int, default=1, help="0 warning, 1 info, 2 debug")
    return parser


def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    out = args.out or Path(args.model) / f"{args.checkpoint}.onnx"
    config = InferenceConfig(score="neg_log_prob") if args.inference_config is None \
        else InferenceConfig.from_yaml(args.inference_config)
    export_onnx(args.model, args.checkpoint, out, args.input_dtype, config)


if __name__ == "__main__":
    run_main(main)
