"""Corpora: one package per corpus (``dcase2020`` .. ``dcase2025``), each registering a
:class:`~asd_lib.corpus.registry.Corpus`, and the helpers they share (``common``,
``sounds``, ``eval_list``, ``download``, ``labels``, ``ground_truth`` and
``evaluator_sums`` (the official evaluators' ground truth), and for the 2021-2025 layouts
``section_layout``, ``section_prepare``, ``section_synthetic`` and ``section_corpus``, which
builds a year's corpus from them).

Importing this package imports every corpus package, which registers it in ``CORPORA``.
"""
from asd_lib.corpus.registry import CORPORA, Corpus, get_corpus
from asd_lib.utils.plugins import import_all

import_all(__name__, __path__)

__all__ = ["CORPORA", "Corpus", "get_corpus"]
