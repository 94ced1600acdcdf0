"""The forward pass of stage 4: embeddings and forward-pass scores of a set of clips, each
clip given only what is known at test time, its machine type and section.

For every clip the experiment offers *candidates* drawn from the training clips of the
clip's (machine, section):

- the section's training classes, for a class-conditional score
  (:mod:`asd_lib.inference.scores`);
- the section's attribute texts, for a model conditioned on them
  (``conditioning: attribute_text``, :mod:`asd_lib.models.traits`): the clip is embedded
  once per text.

The result keeps one embedding per (clip, text) and one forward score per (clip, text),
the minimum over the section's classes; :mod:`asd_lib.inference.run` takes the minimum
over texts once a back-end has scored the embeddings.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

from asd_lib.data.dataset import WaveformDataset
from asd_lib.data.loader import make_loader
from asd_lib.data.step import as_output
from asd_lib.experiment import Experiment, Group, TrainedModel
from asd_lib.inference.scores import ForwardScore, class_scores, model_score
from asd_lib.models.attr_text import describe
from asd_lib.models.traits import traits
from asd_lib.utils.log import progress_enabled


@dataclass
class ForwardResult:
    """``embeddings[i]`` ``[T_i, E]`` and ``scores[i]`` ``[T_i]`` (None without a forward
    score): clip i embedded with each of its ``texts[i]`` (``[None]`` when unconditioned)."""

    embeddings: List[np.ndarray]
    scores: Optional[List[np.ndarray]]
    texts: List[List[Optional[str]]]


def section_texts(experiment: Experiment) -> Dict[Group, List[str]]:
    """The distinct attribute texts of every (machine, section)'s training clips, sorted."""
    labels = experiment.labels
    attrs = labels.tables.get("utt2attr", {})
    out: Dict[Group, set] = {}
    for utt in labels.utts:
        machine = labels.tables["utt2machine"][utt]
        group = (machine, labels.tables["utt2section"][utt])
        out.setdefault(group, set()).add(describe(machine, attrs.get(utt, "")))
    return {group: sorted(texts) for group, texts in out.items()}


def candidate_classes(experiment: Experiment, groups: Sequence[Group]) -> List[List[str]]:
    """Every clip's candidate classes: its section's training classes."""
    known = experiment.labels.section_classes()
    missing = sorted(set(groups) - set(known))
    if missing:
        sections = ", ".join(" ".join(g) for g in known)
        raise ValueError(f"{experiment.exp_dir} was not trained on {missing[0][0]} "
                         f"{missing[0][1]} (its sections: {sections}); score sets of the "
                         "machine types and sections it was trained on")
    return [known[g] for g in groups]


def candidate_texts(experiment: Experiment, groups: Sequence[Group]) -> List[List[Optional[str]]]:
    """Every clip's candidate texts: its section's training texts when a model is
    conditioned on them, else ``[None]``."""
    conditioned = any(traits(t.model).conditioning == "attribute_text"
                      for t in experiment.parts.values())
    if not conditioned:
        return [[None] for _ in groups]
    texts = section_texts(experiment)
    return [texts[g] for g in groups]


@torch.no_grad()
def forward_clips(trained: TrainedModel, locations: Sequence[str], texts: Sequence[Optional[str]],
                  candidates: Optional[Sequence[Sequence[str]]], score: Optional[ForwardScore],
                  margin: bool, batch_size: int, num_workers: int = 0
                  ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Embeddings ``[N, E]`` (patch embeddings averaged) of clips at ``locations``, each
    embedded with its text (``None``: no text), and forward scores ``[N]``: the minimum
    over the clip's ``candidates`` classes for a class-conditional score."""
    if candidates is not None:
        width = max(len(c) for c in candidates)
        index = np.array([[trained.class_index[c[min(k, len(c) - 1)]] for k in range(width)]
                          for c in candidates], dtype=np.int64)  # pad with a repeat: same min
    else:
        index = np.zeros((len(locations), 1), dtype=np.int64)
    loader = make_loader(WaveformDataset(list(locations), list(range(len(locations)))),
                         batch_size=batch_size, num_workers=num_workers, device=trained.device)
    conditioned = texts[0] is not None if len(texts) else False
    embeddings, scores = [], []
    for wave, _, item in tqdm(loader, desc="inference", disable=not progress_enabled()):
        wave = wave.to(trained.device, non_blocking=True)
        rows = item.tolist()
        kwargs = {"attributes": [texts[i] for i in rows]} if conditioned else {}
        out = as_output(trained.model(wave, **kwargs))
        embedding = out["embedding"]
        if score is not None:
            if score.needs_class:
                batch_candidates = torch.as_tensor(index[rows], device=trained.device)
                per_class = class_scores(score, trained.head, embedding, batch_candidates, margin)
            else:
                per_class = model_score(score, out)
            scores.append(per_class.min(dim=1).values.double())
        if traits(trained.model).patch_embeddings:
            embedding = embedding.mean(dim=1)
        embeddings.append(embedding.float())
    loader.close()
    embeddings = torch.cat(embeddings).cpu().numpy()  # one device-to-host copy at the end
    return embeddings, (torch.cat(scores).cpu().numpy() if score is not None else None)


def forward_set(experiment: Experiment, locations: Sequence[str], groups: Sequence[Group],
                score: Optional[ForwardScore], margin: bool, batch_size: int,
                num_workers: int = 0) -> ForwardResult:
    """Every clip through its machine type's model, once per candidate text."""
    texts = candidate_texts(experiment, groups)
    classes = candidate_classes(experiment, groups) if score is not None and score.needs_class \
        else None
    embeddings: List[List[np.ndarray]] = [[] for _ in groups]
    scores: List[List[float]] = [[] for _ in groups]
    width = max(len(t) for t in texts)
    for machine in sorted({g[0] for g in groups}):
        trained = experiment.model_for(machine)
        for k in range(width):
            rows = [i for i, g in enumerate(groups) if g[0] == machine and k < len(texts[i])]
            if not rows:
                continue
            emb, sc = forward_clips(trained, [locations[i] for i in rows],
                                    [texts[i][k] for i in rows],
                                    None if classes is None else [classes[i] for i in rows],
                                    score, margin, batch_size, num_workers)
            for j, i in enumerate(rows):
                embeddings[i].append(emb[j])
                if sc is not None:
                    scores[i].append(float(sc[j]))
    return ForwardResult([np.stack(e) for e in embeddings],
                         None if score is None else [np.asarray(s) for s in scores], texts)
