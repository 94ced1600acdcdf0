"""asd_lib: recipes for machine anomalous sound detection (DCASE Task 2).

Version ranges here; the exact versions the recipes are tested with are pinned in
tools/requirements.txt (make -C tools installs those).
"""
from setuptools import find_packages, setup

setup(
    name="asd_lib",
    version="0.1.0",
    description="Kaldi/ESPnet-style recipes for machine anomalous sound detection",
    packages=find_packages(include=["asd_lib", "asd_lib.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch>=2.1",
        "torchaudio>=2.1",
        "torchvision>=0.16",
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.3",
        "pyyaml>=6.0",
        "kaldiio>=2.18",
        "soundfile>=0.12",
        "tqdm>=4.60",
        "matplotlib>=3.7",
        "tensorboard>=2.12",
    ],
    entry_points={
        # asd-<verb>: python -m asd_lib.bin.<verb>
        "console_scripts": [
            "asd-make-synthetic = asd_lib.bin.console:make_synthetic",
            "asd-download = asd_lib.bin.console:download",
            "asd-prepare-data = asd_lib.bin.console:prepare_data",
            "asd-make-labels = asd_lib.bin.console:make_labels",
            "asd-validate-data-dir = asd_lib.bin.console:validate_data_dir",
            "asd-dump = asd_lib.bin.console:dump",
            "asd-train = asd_lib.bin.console:train",
            "asd-infer = asd_lib.bin.console:infer",
            "asd-score = asd_lib.bin.console:score",
            "asd-plot-results = asd_lib.bin.console:plot_results",
            "asd-ensemble = asd_lib.bin.console:ensemble",
            "asd-show-results = asd_lib.bin.console:show_results",
            "asd-compare = asd_lib.bin.console:compare",
            "asd-detect = asd_lib.bin.console:detect",
            "asd-export-onnx = asd_lib.bin.console:export_onnx",
            "asd-benchmark = asd_lib.bin.console:benchmark",
        ],
    },
    extras_require={
        "pretrained": ["transformers>=4.40"],  # wav2vec 2.0 + AST (models/w2v2_ast.py)
        "onnx": ["onnx>=1.15", "onnxruntime>=1.17"],  # export_onnx, detect --onnx
        "test": ["pytest>=8.0", "pytest-timeout>=2.2", "pytest-xdist>=3.0", "ruff>=0.6"],
    },
)
