"""The corpora of the 2021-2025 layouts, built from their year's facts.

A year of the shared layout (:mod:`asd_lib.corpus.section_layout`) is a package with a
``layout`` module (its :class:`~asd_lib.corpus.section_layout.SectionLayout`: names,
folders, archives, evaluation list, evaluator), a ``synthetic`` module (one
:class:`~asd_lib.corpus.section_synthetic.TypeModel` per machine type, the sizes of its
synthetic corpus) and an ``__init__`` that declares the corpus with
:func:`section_corpus` and the year's official scorer. Everything else of the
:class:`~asd_lib.corpus.registry.Corpus` follows from the layout: its machine types, the
data preparation of :mod:`asd_lib.corpus.section_prepare`, the archives and format checks
of a download, and the writer of :mod:`asd_lib.corpus.section_synthetic`.
"""
import functools
from typing import Any, Mapping, Optional, Tuple

from asd_lib.corpus import section_prepare, section_synthetic
from asd_lib.corpus.registry import Corpus, Scorer, SyntheticLayout, register
from asd_lib.corpus.section_layout import SectionLayout
from asd_lib.corpus.section_synthetic import TypeModel


def prepare_options(layout: SectionLayout) -> Tuple[str, ...]:
    """The data preparation options of a layout (:mod:`asd_lib.corpus.section_prepare`):
    ``separate_eval_train`` where the evaluation set has machine types of its own (2023
    onwards), ``supplemental`` and ``supplemental_in_train`` where the corpus has
    supplemental recordings (2025)."""
    options: Tuple[str, ...] = ()
    if set(layout.eval_types) != set(layout.dev_types):
        options += ("separate_eval_train",)
    if layout.supplemental:
        options += ("supplemental", "supplemental_in_train")
    return options


def section_corpus(layout: SectionLayout, models: Mapping[str, TypeModel], sizes: type,
                   official: Optional[Any], scorer: Scorer,
                   label_scheme: str = "machine_section_attr") -> Corpus:
    """Register the corpus of ``layout``: its synthetic corpus sounds as ``models`` with
    the options of ``sizes`` (``official``: the official sizes), ``scorer`` is its
    official evaluator and ``label_scheme`` its default training classes."""
    return register(Corpus(
        name=layout.name,
        title=f"{layout.title} Task 2",
        machine_types=layout.machine_types,
        parse_machines=layout.parse_machines,
        prepare_data=functools.partial(section_prepare.prepare_data, layout),
        prepare_options=prepare_options(layout),
        remote_files=layout.remote_files,
        validators=layout.validators,
        synthetic=SyntheticLayout(
            functools.partial(section_synthetic.write_corpus, layout, models), sizes, official),
        scorer=scorer,
        label_scheme=label_scheme,
    ))
