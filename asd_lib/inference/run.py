"""Stage 4 for one set: embeddings, anomaly scores and decisions.

The training set is scored first (``data_dir`` is ``train_dir``): its embeddings are
written (each clip embedded as it was trained: with its own attribute text), its clips
are scored as test clips would be, and its held-out clips' scores set the decision
thresholds (:mod:`asd_lib.inference.thresholds`). A test set then reads of the training
run only the embeddings (to fit an embedding back-end) and the thresholds.

A test set is read through what its clips reveal at test time, the file name, machine
type and section (:data:`asd_lib.data.dataset.TEST_TIME_FILES`): its ``utt2class``,
``utt2domain``, ``utt2attr`` and ``utt2label`` are never opened, so they cannot change a
score. The training clips' classes and domains are the experiment's own
(``exp/<tag>/train_labels``), whatever ``data/`` holds now.
"""
import logging
from pathlib import Path
from typing import List

import numpy as np

from asd_lib.corpus import get_corpus
from asd_lib.data.dataset import TEST_TIME_FILES, DumpedSet
from asd_lib.experiment import Experiment, load_experiment
from asd_lib.inference.backend import backend_scores, fit_backends, rows_within_groups
from asd_lib.inference.config import InferenceConfig
from asd_lib.inference.fast_model import for_inference
from asd_lib.inference.forward import ForwardResult, forward_set
from asd_lib.inference.outputs import (
    read_embeddings,
    write_embeddings,
    write_official_files,
    write_scores,
)
from asd_lib.inference.scores import FORWARD_SCORES
from asd_lib.inference.thresholds import (
    FILE_NAME,
    read_thresholds,
    section_thresholds,
    write_thresholds,
)
from asd_lib.models.attr_text import describe
from asd_lib.utils.device import select_device

logger = logging.getLogger(__name__)


def run_inference(exp_dir, checkpoint: str, data_dir, out_dir, dataset: str,
                  config: InferenceConfig, train_dir, train_out_dir, ngpu: int = 0,
                  num_threads: int = 0) -> None:
    """Score ``data_dir`` into ``out_dir``; ``train_out_dir`` holds (or, when ``data_dir`` is
    ``train_dir``, receives) the training set's outputs."""
    device = select_device(ngpu, num_threads)
    experiment = load_experiment(exp_dir, checkpoint, device)
    for part in experiment.parts.values():
        for_inference(part.model, config.compile)
    is_train = Path(data_dir).resolve() == Path(train_dir).resolve()
    data = DumpedSet(data_dir, only=TEST_TIME_FILES)
    data.check_dumped_as(experiment.sample_rate, experiment.num_samples, str(exp_dir))
    if is_train:
        check_training_set(experiment, data)
    groups = list(zip(data.column("utt2machine"), data.column("utt2section")))
    score = FORWARD_SCORES.get(config.score)
    result = forward_set(experiment, data.locations, groups, score, config.score_margin,
                         config.batch_size, config.num_workers)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if is_train:
        own = own_embeddings(experiment, data.utts, result)
        write_embeddings(out_dir, data.utts, own)
    if score is not None:
        per_text = result.scores
    elif is_train:
        per_text = backend_scores(_fitted(experiment, config, data.utts, groups, own), groups,
                                  result.embeddings, rows_within_groups(groups))
    else:
        train_embeddings = read_embeddings(Path(train_out_dir) / "embeddings.scp",
                                           experiment.labels.utts)
        train_groups = list(zip(experiment.labels.column("utt2machine", experiment.labels.utts),
                                experiment.labels.column("utt2section", experiment.labels.utts)))
        backends = _fitted(experiment, config, experiment.labels.utts, train_groups,
                           train_embeddings)
        per_text = backend_scores(backends, groups, result.embeddings)
    best = [int(np.argmin(s)) for s in per_text]
    scores = np.array([s[b] for s, b in zip(per_text, best)])
    write_scores(out_dir, data.utts, scores)
    if is_train:
        thresholds = section_thresholds(data.utts, groups, scores, experiment.held_out)
        write_thresholds(out_dir / FILE_NAME, thresholds)
    else:
        write_embeddings(out_dir, data.utts,
                         np.stack([e[b] for e, b in zip(result.embeddings, best)]))
        thresholds = read_thresholds(Path(train_out_dir) / FILE_NAME)
        write_official_files(out_dir, get_corpus(dataset).csv_name, data.file_names(), groups,
                             scores, thresholds)
    logger.info("scored %d clips of %s into %s (%s)", len(scores), data_dir, out_dir,
                config.scorer)


def check_training_set(experiment: Experiment, data: DumpedSet) -> None:
    """The dumped training set must hold the clips the experiment was trained on."""
    trained, dumped = set(experiment.labels.utts), set(data.utts)
    if trained != dumped:
        raise ValueError(
            f"{data.path} is not the set {experiment.exp_dir} was trained on "
            f"({len(trained - dumped)} trained clips missing, {len(dumped - trained)} new); "
            "re-run stages 1-2 on the corpus it was trained on, or train a new experiment "
            "on this data with another --tag")


def own_embeddings(experiment: Experiment, utts: List[str], result: ForwardResult) -> np.ndarray:
    """Each training clip's embedding with its own attribute text (its only one when the
    model takes none): the embeddings back-ends are fitted on."""
    labels = experiment.labels
    attrs = labels.tables.get("utt2attr", {})
    rows = []
    for i, utt in enumerate(utts):
        texts = result.texts[i]
        own = describe(labels.tables["utt2machine"][utt], attrs.get(utt, "")) \
            if texts[0] is not None else None
        rows.append(result.embeddings[i][texts.index(own)])
    return np.stack(rows)


def _fitted(experiment: Experiment, config: InferenceConfig, utts, groups, embeddings):
    """The back-ends of every section, fitted on the training embeddings of ``utts``."""
    labels = experiment.labels
    domains = labels.column("utt2domain", utts) if "utt2domain" in labels.tables \
        else ["source"] * len(utts)
    return fit_backends(config.backend, config.backend_conf, embeddings, groups, domains,
                        labels.column("utt2class", utts))

