"""asd_lib: recipes for machine anomalous sound detection (DCASE Task 2)."""
from setuptools import find_packages, setup

setup(
    name="asd_lib",
    version="0.1.0",
    description="Kaldi/ESPnet-style recipes for machine anomalous sound detection",
    packages=find_packages(include=["asd_lib", "asd_lib.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch==2.9.1",
        "torchaudio==2.9.1",
        "torchvision==0.24.1",
        "numpy",
        "scipy",
        "scikit-learn",
        "configargparse",
        "pyyaml",
        "kaldiio",
        "soundfile",
        "tqdm",
        "matplotlib",
        "tensorboard",
        "onnx",
        "onnxruntime",
        "transformers",
    ],
    extras_require={"test": ["pytest", "pytest-timeout"]},
)
