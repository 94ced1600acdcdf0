"""Data preparation of the 2021-2025 layouts (:class:`asd_lib.corpus.section_layout.SectionLayout`).

Sets written: ``train`` (the development training clips plus, with ``use_additional``, the
additional training clips of the evaluation sections), ``dev_test``, ``eval_test``; with
``separate_eval_train`` the additional training clips go to ``eval_train`` instead, and with
``supplemental`` the clips of every ``<M>/supplemental/`` folder (DCASE 2025) to
``supplemental``, and with ``supplemental_in_train`` to ``train`` as normal training clips
(:func:`as_training_clip`). Every file name is checked against the year's grammar and every wav
header is read; nothing is written unless the whole corpus passes.

A test clip reveals only its file name, machine type and section. The attributes of an
evaluation test clip come from the evaluation list (the full name it maps to), its label
and domain from the ground truth of the year's official evaluator in
``<corpus>/ground_truth/`` (:mod:`asd_lib.corpus.ground_truth`), which the challenge was
scored with; where the two disagree (DCASE 2022 ToyCar and ToyTrain) one warning says how
many clips of which types, and the ground truth is used. Its utterance ID takes the full
name (``<M>-section_00_source_test_normal_0012_m-n_X``) while ``wav.scp`` keeps the real
file; a clip whose full name states another label or domain than the ground truth keeps
its file name (``<M>-section_03_0001``). Without the evaluator's files (a corpus copied
without them; 2025, whose evaluator could not be read) label and domain come from the list,
with a warning naming the fix where the files exist; without either ``eval_test`` has no
``utt2domain``, ``utt2attr`` or ``utt2label``.

The supplemental recordings (clean machine sound or noise only, DCASE 2025) have a file
name grammar that could not be verified, so the folder is globbed and the name is only
read for a leading ``section_XX`` and a ``source``/``target`` token; the utterance ID keeps
the whole name.
"""
import logging
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from asd_lib.corpus import ground_truth
from asd_lib.corpus.common import (
    NO_ATTRIBUTE,
    Clip,
    check_unique,
    check_wav,
    log_missing_eval_test,
    machine_type_root,
    need_dir,
    visible_entries,
    write_sets,
)
from asd_lib.corpus.section_layout import (
    DEV_DIR,
    EVAL_DIR,
    LAYOUTS,
    SUPPLEMENTAL_DIR,
    SectionLayout,
)

SET_NAMES = ("train", "dev_test", "eval_train", "eval_test", "supplemental")
_SECTION_PREFIX = re.compile(r"section_(?P<section>\d{2})_")
_DOMAIN_TOKEN = re.compile(r"(?:^|_)(?P<domain>source|target)(?:_|$)")

logger = logging.getLogger(__name__)


def _wavs(directory: Path, hint: str) -> List[Path]:
    """The ``.wav`` entries of an official folder (hidden files and other files skipped)."""
    paths = []
    for path in visible_entries(directory):
        if path.name.lower().endswith(".wav"):
            paths.append(path)
        else:
            logger.debug("ignoring non-wav file %s", path)
    if not paths:
        raise ValueError(f"{directory}: no wav files; the set is empty ({hint})")
    return paths


def _bad_name(layout: SectionLayout, path: Path, expected: str) -> ValueError:
    return ValueError(f"{path}: name does not follow the official {layout.title} layout "
                      f"(expected {expected}, lower-case .wav); rename or remove it")


def _check_section(layout: SectionLayout, path: Path, section: str, top: str) -> None:
    sections = layout.sections(top)
    if section not in sections:
        part = "development" if top == DEV_DIR else "evaluation"
        raise ValueError(f"{path}: section {section} is not a {layout.title} {part} section "
                         f"(expected {', '.join(sections)}); was the file copied from another "
                         "year or folder?")


def _folder_domain(layout: SectionLayout, folder: str) -> Optional[str]:
    """``source`` for ``source_test/`` where the year splits test folders by domain."""
    return folder.split("_")[0] if len(layout.test_dirs) > 1 else None


def _check_folder_domain(path: Path, domain: Optional[str], folder_domain: Optional[str]) -> None:
    if folder_domain is not None and domain != folder_domain:
        raise ValueError(f"{path}: a {domain}-domain clip in {path.parent.name}/; move it to "
                         f"{domain}_test/")


def scan_named(layout: SectionLayout, directory: Path, machine: str, split: str,
               top: str) -> List[Clip]:
    """Clips of a folder whose files carry full names (training and dev test folders)."""
    example = layout.full_name_example(split, layout.sections(top)[0])
    allowed_split = (split, None) if split == "test" else (split,)
    folder_domain = _folder_domain(layout, directory.name) if split == "test" else None
    clips = []
    for path in _wavs(directory, layout.corpus_hint):
        clip = layout.parse_clip_name(path.name)
        if not path.is_file() or clip is None or clip.split not in allowed_split:
            raise _bad_name(layout, path, example)
        _check_section(layout, path, clip.section, top)
        if split == "train" and clip.label != "normal":
            raise ValueError(f"{path}: an anomalous clip in a training folder; remove it")
        _check_folder_domain(path, clip.domain, folder_domain)
        check_wav(path)
        clips.append(Clip(f"{machine}-{path.name[:-len('.wav')]}", path.resolve(), machine,
                          f"section_{clip.section}", clip.domain, clip.attr, clip.label))
    return clips


def scan_eval_test(layout: SectionLayout, directory: Path, machine: str) -> List[Clip]:
    """Evaluation test clips (``section_XX_NNNN.wav``), not yet labelled."""
    folder_domain = _folder_domain(layout, directory.name)
    clips = []
    for path in _wavs(directory, layout.corpus_hint):
        name = layout.parse_eval_name(path.name)
        if not path.is_file() or name is None:
            raise _bad_name(layout, path, layout.eval_name_example())
        _check_section(layout, path, name.section, EVAL_DIR)
        _check_folder_domain(path, name.domain, folder_domain)
        check_wav(path)
        clips.append(Clip(f"{machine}-{path.name[:-len('.wav')]}", path.resolve(), machine,
                          f"section_{name.section}", None, None, None))
    return clips


def scan_supplemental(layout: SectionLayout, directory: Path, machine: str,
                      top: str) -> List[Clip]:
    """Clips of a ``supplemental/`` folder (module docstring)."""
    sections = layout.sections(top)
    clips = []
    for path in _wavs(directory, "remove the empty folder or re-extract the archive"):
        stem = path.name[:-len(".wav")]
        prefix = _SECTION_PREFIX.match(stem)
        if prefix is None and len(sections) > 1:
            raise ValueError(f"{path}: no section_XX prefix, and {machine} has several sections")
        section = prefix["section"] if prefix else sections[0]
        _check_section(layout, path, section, top)
        domain = _DOMAIN_TOKEN.search(stem)
        check_wav(path)
        clips.append(Clip(f"{machine}-{stem}", path.resolve(), machine, f"section_{section}",
                          domain["domain"] if domain else None, None, None))
    return clips


def as_training_clip(clip: Clip) -> Clip:
    """A supplemental recording as a normal training clip of its machine type and section:
    the domain its name states, else ``source`` (the domain of all but a handful of
    training clips), and no attributes (``noAttribute``), so that the attribute label
    schemes give the recordings of a type a class of their own. This use is ours: neither
    the organisers' baseline nor a published system trains on them."""
    return clip._replace(domain=clip.domain or "source", attr=NO_ATTRIBUTE, label="normal")


def label_eval_test(layout: SectionLayout, eval_list: Path, clips: List[Clip]) -> List[Clip]:
    """Rename evaluation test clips through the list: the utterance ID takes the full name,
    the path stays the real file, and the domain, attributes and label come from the full
    name. Rows of types not prepared are skipped."""
    machines = {c.machine for c in clips}
    rows = [r for r in layout.read_eval_list(eval_list) if r.machine in machines]
    by_key = {(c.machine, c.path.name): c for c in clips}
    labelled = {}
    for row in rows:
        clip = by_key.get((row.machine, row.eval_name))
        if clip is None:
            folders = "|".join(layout.test_dirs)
            raise ValueError(f"{eval_list}:{row.lineno}: {row.machine}/{row.eval_name} has no file "
                             f"in {EVAL_DIR}/{row.machine}/{folders}; the list and the evaluation "
                             "test set do not match (re-extract the evaluation test archive or "
                             "re-download the list)")
        utt = f"{row.machine}-{row.full_name[:-len('.wav')]}"
        labelled[clip.utt] = clip._replace(utt=utt, domain=row.clip.domain, attr=row.clip.attr,
                                           label=row.clip.label)
    missing = [c.path for c in clips if c.utt not in labelled]
    if missing:
        raise ValueError(f"{eval_list}: {len(missing)} evaluation test file(s) are not listed, "
                         f"e.g. {missing[0]}; re-download the list or remove the extra files")
    return [labelled[c.utt] for c in clips]


def label_eval_clips(layout: SectionLayout, corpus: Path, clips: List[Clip]) -> List[Clip]:
    """Attributes (and full names) from the evaluation list, label and domain from the
    evaluator's ground truth in ``<corpus>/ground_truth/`` (module docstring)."""
    eval_list = corpus / layout.eval_list_name
    if eval_list.is_file():
        clips = label_eval_test(layout, eval_list, clips)
    machines = [m for m in layout.eval_types if m in {c.machine for c in clips}]
    folder = corpus / ground_truth.GROUND_TRUTH_DIR
    without = layout.evaluator.missing(folder, machines) if layout.evaluator else []
    if without:
        source = eval_list.name if eval_list.is_file() else "nowhere (no utt2label, utt2domain)"
        logger.warning("%s: no ground truth of the official evaluator %s for %s, so their labels "
                       "and domains come from %s; run stage 0 with --download true (it fetches "
                       "them) or copy the evaluator's ground_truth_data/ and "
                       "ground_truth_domain/ folders there", folder, layout.evaluator.repo,
                       ", ".join(without), source)
    with_truth = [m for m in machines if layout.evaluator and m not in without]
    if with_truth:
        truth = layout.evaluator.read(folder, with_truth)
        checked = ground_truth.apply([c for c in clips if c.machine in with_truth], truth, folder,
                                     eval_list.name if eval_list.is_file() else None)
        by_path = {c.path: c for c in checked}
        clips = [by_path.get(c.path, c) for c in clips]
    elif not eval_list.is_file():
        logger.info("%s not found: eval_test gets no utt2domain, utt2attr, utt2label", eval_list)
    return clips


def _machine_dirs(layout: SectionLayout, parent: Path, split_dir: str) -> List[str]:
    """Machine-type folders of ``split_dir`` (dev_data or eval_data), found in ``parent``
    (that folder or its raw/, as the official baseline unpacks them); unknown folders are an
    error."""
    expected = layout.types(split_dir)
    names = [p.name for p in visible_entries(parent) if p.is_dir()]
    wrong = sorted(set(names) - set(expected))
    if wrong:
        other = sorted(set(wrong) & set(layout.machine_types))
        home = EVAL_DIR if split_dir == DEV_DIR else DEV_DIR
        hint = f" ({', '.join(other)} belong(s) in {home}/)" if other else ""
        raise ValueError(f"{parent}: unexpected machine type folder(s) {wrong}{hint}; this folder "
                         f"holds {', '.join(expected)}: remove or move the extra folders")
    return [m for m in expected if m in names]


def _type_roots(layout: SectionLayout, corpus: Path) -> Dict[str, Path]:
    """``{dev_data, eval_data: the folder holding its machine-type folders}``
    (:func:`~asd_lib.corpus.common.machine_type_root`); a missing split keeps its plain path."""
    if not (corpus / DEV_DIR).is_dir() and not (corpus / EVAL_DIR).is_dir():
        raise ValueError(f"corpus directory {corpus} holds neither {DEV_DIR}/ nor {EVAL_DIR}/: "
                         f"{layout.corpus_hint}")
    return {name: machine_type_root(corpus / name, layout.machine_types)
            if (corpus / name).is_dir() else corpus / name for name in (DEV_DIR, EVAL_DIR)}


def _present_types(layout: SectionLayout, corpus: Path, roots: Dict[str, Path],
                   machines: Optional[Sequence[str]]) -> Sequence[str]:
    present = set()
    for split_dir, top in roots.items():
        if top.is_dir():
            present.update(_machine_dirs(layout, top, split_dir))
    if machines is None:
        machines = [m for m in layout.machine_types if m in present]
        if not machines:
            raise ValueError(f"{corpus}: no machine type folders ({layout.corpus_hint})")
        own_eval_types = [m for m in layout.eval_types if m not in layout.dev_types]
        if own_eval_types and not roots[EVAL_DIR].is_dir():
            logger.warning("%s: no %s/ folder, a development-only corpus: no eval_test and no "
                           "additional training clips of the %d evaluation types (%d of %d "
                           "development types found: %s)", corpus, EVAL_DIR, len(own_eval_types),
                           len(machines), len(layout.dev_types), " ".join(machines))
        elif len(machines) < len(layout.machine_types):
            logger.warning("only %d of %d machine types found: %s", len(machines),
                           len(layout.machine_types), " ".join(machines))
    missing = [m for m in machines if m not in present]
    if missing:
        raise ValueError(f"{corpus}: no folder for machine type(s) {missing} "
                         f"({layout.corpus_hint})")
    return machines


def check_year(layout: SectionLayout, named: Dict[str, List[Clip]]) -> None:
    """Refuse clips of another year's corpus. The development types of 2023, 2024 and 2025
    are the same seven, in the same folders and name grammar; the years differ in which
    types hide their attributes (names ending ``_noAttribute``; 2023 none, 2024 gearbox,
    slider, ToyTrain, 2025 bearing, slider, ToyTrain: the ``hidden_attributes`` of each
    layout). ``named`` holds the clips of the training (``train``) and development test
    (``test``) folders; a development type whose names all hide their attributes where
    this year shows them, or all show them where this year hides them, stops the
    preparation, naming a file, the years whose layouts the names match and the fix."""
    groups: Dict[tuple, List[Clip]] = {}
    for split, clips in named.items():
        for clip in clips:
            if clip.machine in layout.dev_types:
                groups.setdefault((clip.machine, split), []).append(clip)
    seen = {}
    for key, clips in groups.items():
        hidden = [c.attr == NO_ATTRIBUTE for c in clips]
        if all(hidden) or not any(hidden):
            seen[key] = (all(hidden), clips[0].path)
    wrong = [(key, hidden, path) for key, (hidden, path) in seen.items()
             if hidden != layout.hides_attributes(*key)]
    if not wrong:
        return
    (machine, split), hidden, path = wrong[0]
    matching = [other.title for other in LAYOUTS.values()
                if other is not layout and all(m in other.dev_types
                                               and other.hides_attributes(m, sp) == h
                                               for (m, sp), (h, _) in seen.items())]
    match = f"; the names match {' and '.join(matching)}" if matching else ""
    raise ValueError(
        f"{path}: the {machine} {split} names {'hide' if hidden else 'show'} their attributes, "
        f"but {layout.title} {'hides' if layout.hides_attributes(machine, split) else 'shows'} "
        f"them: this is not a {layout.title} corpus{match}. Point {layout.name.upper()} in "
        f"db.sh (or --corpus_dir) at the {layout.title} corpus, or use its own year's recipe")


def collect_sets(layout: SectionLayout, corpus_dir, use_additional: bool = True,
                 machines: Optional[Sequence[str]] = None, separate_eval_train: bool = False,
                 supplemental: bool = False,
                 supplemental_in_train: bool = False) -> Dict[str, List[Clip]]:
    """Scan the official tree: ``{set name: clips}`` (sets without clips left out). An
    evaluation type without an eval test folder is left out of eval_test (one warning). The
    machine-type folders may also be in ``dev_data/raw/`` and ``eval_data/raw/``, where the
    official baseline's download scripts put them."""
    corpus = Path(corpus_dir)
    roots = _type_roots(layout, corpus)
    dev, ev = roots[DEV_DIR], roots[EVAL_DIR]
    machines = _present_types(layout, corpus, roots, machines)
    sets: Dict[str, List[Clip]] = {name: [] for name in SET_NAMES}
    without_eval_test = []
    hint = layout.corpus_hint
    for m in machines:
        if m in layout.dev_types:
            sets["train"] += scan_named(layout, need_dir(dev / m / "train", hint), m, "train",
                                        DEV_DIR)
            for folder in layout.test_dirs:
                sets["dev_test"] += scan_named(layout, need_dir(dev / m / folder, hint), m,
                                               "test", DEV_DIR)
        if m in layout.eval_types:
            if use_additional:
                extra = "download the additional training set or pass --use_additional false"
                target = "eval_train" if separate_eval_train else "train"
                sets[target] += scan_named(layout, need_dir(ev / m / "train", extra), m, "train",
                                           EVAL_DIR)
            folders = [ev / m / f for f in layout.test_dirs]
            if all(f.is_dir() for f in folders):
                for folder in folders:
                    sets["eval_test"] += scan_eval_test(layout, folder, m)
            else:
                without_eval_test.append(next(f for f in folders if not f.is_dir()))
        if supplemental or supplemental_in_train:
            for split_dir, top in roots.items():
                if (top / m / SUPPLEMENTAL_DIR).is_dir():
                    sets["supplemental"] += scan_supplemental(layout, top / m / SUPPLEMENTAL_DIR,
                                                              m, split_dir)
    check_year(layout, {"train": sets["train"] + sets["eval_train"], "test": sets["dev_test"]})
    log_missing_eval_test(without_eval_test, len([m for m in machines if m in layout.eval_types]))
    if (supplemental or supplemental_in_train) and not sets["supplemental"]:
        raise ValueError(f"{corpus}: no {SUPPLEMENTAL_DIR}/ folder for {', '.join(machines)}; "
                         "download the archives that hold it or pass --supplemental false "
                         "and --supplemental_in_train false")
    if supplemental_in_train:
        for clip in sets["supplemental"]:
            evaluation = separate_eval_train and clip.machine in layout.eval_types
            sets["eval_train" if evaluation else "train"].append(as_training_clip(clip))
    if not supplemental:
        sets["supplemental"] = []
    if sets["eval_test"]:
        sets["eval_test"] = label_eval_clips(layout, corpus, sets["eval_test"])
    sets = {name: clips for name, clips in sets.items() if clips}
    if not sets.get("train") and not sets.get("eval_train"):
        raise ValueError(f"{corpus}: no training clips for {', '.join(machines)}; the additional "
                         "training set is needed for evaluation types (--use_additional true)")
    for name, clips in sets.items():
        check_unique(name, clips)
    return sets


def prepare_data(layout: SectionLayout, corpus_dir, data_dir, use_additional: bool = True,
                 machines: Optional[Sequence[str]] = None, **options) -> Dict[str, int]:
    """The official tree of ``layout`` -> ``data_dir/<set>`` (module docstring); returns
    the clips per set. A set of an earlier run that this run does not make (e.g.
    ``eval_train`` after ``separate_eval_train`` is switched off) is removed, so it cannot
    be used stale."""
    sets = collect_sets(layout, corpus_dir, use_additional, machines, **options)
    return write_sets(data_dir, sets, SET_NAMES)
