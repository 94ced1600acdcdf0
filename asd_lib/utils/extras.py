"""Optional parts of asd_lib and the extras that install them (``setup.py``):
``pretrained`` (transformers, for the wav2vec 2.0 + AST system) and ``onnx`` (onnx and
onnxruntime, for ``export_onnx`` and ``detect --onnx``)."""
import importlib
from types import ModuleType

EXTRAS = {"transformers": "pretrained", "onnx": "onnx", "onnxruntime": "onnx"}


class MissingExtraError(ImportError):
    """An optional package is not installed; the message names the install command."""


def require(module: str, needed_by: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS[module]
        raise MissingExtraError(
            f"{needed_by} needs the {module} package, which is not installed: pip install "
            f"-e '.[{extra}]' in the repository (tools/venv has it: make -C tools)") from None
