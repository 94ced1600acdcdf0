"""The registry of corpora: everything asd_lib knows of a corpus, in one entry.

A corpus package (``asd_lib/corpus/<name>/``) registers one :class:`Corpus`: its machine
types, how its official tree becomes data dirs, the archives to fetch, the synthetic
corpus in its layout, and its official evaluator (score-file names, metrics, result
files, headline numbers). Everything else in asd_lib reaches a corpus through
:func:`get_corpus`, so a new corpus is a new package here plus a recipe directory
(``docs/new_recipe.md``).
"""
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from asd_lib.metrics import domain_shift
from asd_lib.metrics.resampled import ResampledHeadline, domain_shift_resampled
from asd_lib.utils.registry import Registry

CORPORA = Registry("corpus")


@dataclass(frozen=True)
class Scorer:
    """A corpus's official evaluator.

    ``evaluate(data_dir, score_dir, protocol)`` scores the official CSVs of ``score_dir``
    against the ground truth of ``data_dir`` (None without ground truth);
    ``write_results(result, out_dir)`` writes ``result.{csv,md,json}`` (result.csv in the
    official evaluator's layout); ``format_markdown(result)`` is the table printed;
    ``csv_name(kind, machine, section, file_name)`` names the official file that holds the
    clip ``file_name`` (most years have one file per machine and section; DCASE 2021 one
    per domain too, read from the clip's name); the first of ``protocols`` is the official
    one; ``headline`` lists the columns of the results table
    (:mod:`asd_lib.report.aggregate`) as (title, key path in result.json); ``resampled``
    computes those numbers for bootstrap resamples of a scored set
    (:mod:`asd_lib.metrics.resampled`, used by :mod:`asd_lib.report.compare`).
    """

    evaluate: Callable[[Path, Path, str], Optional[Any]]
    write_results: Callable[[Any, Path], List[Path]]
    format_markdown: Callable[[Any], str]
    csv_name: Callable[..., str]
    protocols: Tuple[str, ...]
    headline: Tuple[Tuple[str, Tuple[str, ...]], ...]
    resampled: Optional[ResampledHeadline] = None


def domain_shift_scorer(evaluator: domain_shift.DomainShiftEvaluator) -> Scorer:
    """The scorer of a year whose evaluator computes the 2022-2025 metrics
    (:mod:`asd_lib.metrics.domain_shift`), with that year's ``evaluator``."""
    return Scorer(
        evaluate=evaluator.score,
        write_results=domain_shift.write_results,
        format_markdown=domain_shift.format_markdown,
        csv_name=domain_shift.official_csv_name,
        protocols=domain_shift.PROTOCOLS,
        headline=domain_shift.HEADLINE,
        resampled=domain_shift_resampled(evaluator.title),
    )


@dataclass(frozen=True)
class SyntheticLayout:
    """The synthetic corpus of a layout: ``write(out, seed, sizes, machines, severity, nj)``
    returns the clip count; ``sizes`` is a dataclass whose fields (with defaults and a
    ``help`` in their metadata) are the options of ``make_synthetic``; ``official`` are the
    official sizes, where they fit a CPU at all."""

    write: Callable[..., int]
    sizes: type
    official: Optional[Any] = None

    def size_fields(self):
        return fields(self.sizes)


@dataclass(frozen=True)
class Corpus:
    """One corpus (module docstring). ``name`` is its ``--dataset`` and the name of its
    db.sh variable in upper case (``dcase2020`` -> ``DCASE2020``)."""

    name: str
    title: str
    machine_types: Tuple[str, ...]
    parse_machines: Callable[[Optional[str]], Optional[Tuple[str, ...]]]
    prepare_data: Callable[..., Dict[str, int]]
    remote_files: Callable[..., list]
    validators: Callable[[], Dict[str, Callable[[Path], object]]]
    synthetic: SyntheticLayout
    scorer: Scorer
    prepare_options: Tuple[str, ...] = ()  # prepare_data's own keyword options
    test_sets: Tuple[str, ...] = ("dev_test", "eval_test")
    label_scheme: str = "machine_section_attr"  # training classes unless told (make_labels)

    def csv_name(self, kind: str, machine: str, section: str,
                 file_name: Optional[str] = None) -> str:
        """The official file name of ``kind`` (``anomaly_score`` / ``decision_result``)
        that holds the clip ``file_name`` of (machine, section)."""
        return self.scorer.csv_name(kind, machine, section, file_name)


def register(corpus: Corpus) -> Corpus:
    return CORPORA.add(corpus.name, corpus)


def get_corpus(name: str) -> Corpus:
    """The registered corpus ``name`` (a ValueError naming the known ones otherwise)."""
    if name not in CORPORA:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(CORPORA.names())}")
    return CORPORA.get(name)
