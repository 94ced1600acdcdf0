"""Console scripts: ``asd-<verb>`` is ``python -m asd_lib.bin.<verb>`` (``_`` written ``-``).

``pip install -e .`` puts them on the PATH through setup.py's ``console_scripts``, which
name the functions here (``asd-train = asd_lib.bin.console:train``). Each runs its
module's ``main`` as ``python -m`` does (:func:`asd_lib.utils.cli.run_main`: a bad input
ends with one error line and status 1), importing the module only when it is called.
"""
import importlib
from typing import Callable

from asd_lib.utils.cli import run_main

VERBS = ("make_synthetic", "download", "prepare_data", "make_labels", "validate_data_dir",
         "dump", "train", "infer", "score", "plot_results", "ensemble", "show_results",
         "compare", "detect", "export_onnx", "benchmark")


def script_name(verb: str) -> str:
    """``show_results`` -> ``asd-show-results``."""
    return "asd-" + verb.replace("_", "-")


def command(verb: str) -> Callable[[], None]:
    """The console script of ``asd_lib.bin.<verb>``."""
    def run() -> None:
        run_main(importlib.import_module(f"asd_lib.bin.{verb}").main)
    run.__name__ = run.__qualname__ = verb
    run.__doc__ = f"``{script_name(verb)}``: ``python -m asd_lib.bin.{verb}``."
    return run


make_synthetic = command("make_synthetic")
download = command("download")
prepare_data = command("prepare_data")
make_labels = command("make_labels")
validate_data_dir = command("validate_data_dir")
dump = command("dump")
train = command("train")
infer = command("infer")
score = command("score")
plot_results = command("plot_results")
ensemble = command("ensemble")
show_results = command("show_results")
compare = command("compare")
detect = command("detect")
export_onnx = command("export_onnx")
benchmark = command("benchmark")

