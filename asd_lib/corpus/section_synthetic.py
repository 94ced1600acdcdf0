"""Synthetic corpora in the 2021-2025 layouts (:mod:`asd_lib.corpus.section_layout`).

Each year's package gives its layout and one :class:`TypeModel` per machine type (the
development types of 2022-2025 share :data:`DEV_TYPE_MODELS`); this module plans and
writes every file: ``dev_data/<M>`` for the development sections and ``eval_data/<M>``
for the evaluation sections, each with ``train/``, the test folders of the
year, ``attributes_XX.csv`` where the year has them, ``supplemental/`` where it has them,
the evaluation list (with the year's line endings) mapping each evaluation test file to
its full name, and, where the year's evaluator is known, its ground-truth files in
``ground_truth/`` (:mod:`asd_lib.corpus.ground_truth`). For the types whose official list
disagrees with the evaluator (:attr:`SectionLayout.list_disagrees`: 2022 ToyCar and
ToyTrain) the list maps the files of a section to each other's full names (a second seeded
permutation), so that the list's labels and domains are wrong for about half of the clips,
while the ground truth tells what each file sounds like.

**Sound.** Each type is one of the physical models of :mod:`asd_lib.corpus.sounds` (the
``family``: rotating machine, pump, slide rail, valve, geared motor, conveyor); every
section of a type is another machine of that family, its parameters drawn from ``(seed,
type, section)``. **Attributes** are operating conditions that change that sound:
``speed`` scales the rotation frequency, the event rate and (by its square root) the
resonances; ``load`` raises the tonal, click and resonance levels, moves the resonances up
and brightens the spectrum; ``timbre`` (machine model, microphone, mounting) moves the
resonances, reweights the partials, tilts the spectrum and adds a resonance of its own;
``background`` mixes a coloured factory noise whose bands and level depend on the value.
**Domain shift**: the target domain uses values of at least one attribute never heard in
the source domain, with few training clips. Where the official names hide the attributes
(``noAttribute``), the sound still changes. **Anomalies** are the randomised faults of
:func:`asd_lib.corpus.sounds.apply_fault`.

**Names** follow the year's grammar and, per type, the irregularities its
:class:`TypeModel` asks for (first index 0000 or 0001, target indices after the source
ones, attribute name and value joined, attributes written without separators). Evaluation
test clips are generated under their full names, shuffled per section (and domain, where
the evaluation names keep it) with a seeded generator and renamed in that order; where the
evaluation names keep the domain (2021), the full name's index is the evaluation index, as
in the official list.

All randomness of a clip comes from ``(seed, type[, section], split, domain, label,
index)`` (the section enters where a type has several); the corpus is byte-identical for
any number of jobs. ``attributes_XX.csv`` of a hidden type has ``d1p = noAttribute`` and an
empty ``d1v`` (our choice; the organisers' files do not show the row of a hidden type).
"""
import dataclasses
import itertools
import logging
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from asd_lib.corpus import ground_truth
from asd_lib.corpus.common import NO_ATTRIBUTE
from asd_lib.corpus.section_layout import DEV_DIR, EVAL_DIR, SUPPLEMENTAL_DIR, SectionLayout
from asd_lib.corpus.sounds import (
    DEFAULT_SEVERITY,
    DEFAULT_SNR_DB,
    MACHINE_MODELS,
    SR,
    apply_fault,
    background,
    check_severity,
    claim_out_dir,
    jitter_params,
    make_rng,
    mix_clip,
    random_resonances,
    render_machine,
    shaped_noise,
    unit_rms,
    write_clips,
    write_marker,
    write_wav,
)
from asd_lib.utils.fileio import atomic_write

SPEED_STEP = 1.25
"""Frequency ratio between neighbouring values of a ``speed`` attribute."""
LOAD_STEP_DB = 4.0
"""Level change (dB) between neighbouring values of a ``load`` attribute."""
BACKGROUND_STEP = 1.6
"""Frequency ratio of the background bands between neighbouring values of a ``background``
attribute."""

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One operating condition: ``name`` (``d<i>p`` of attributes_XX.csv) and its values."""

    name: str
    effect: str  # a key of EFFECTS
    source: Tuple[str, ...]
    target: Tuple[str, ...]

    @property
    def values(self) -> Tuple[str, ...]:
        """Every value, source first, in order (the order a speed or load grows in)."""
        return tuple(dict.fromkeys(self.source + self.target))


def attr(name: str, effect: str, source: str, target: str) -> Attribute:
    """``attr("spd", "speed", "1 2", "3")``: values separated by spaces."""
    return Attribute(name, effect, tuple(source.split()), tuple(target.split()))


@dataclasses.dataclass(frozen=True)
class TypeModel:
    """How one machine type sounds and how its files are named."""

    family: str  # key of sounds.MACHINE_MODELS
    attributes: Tuple[Attribute, ...]
    start: int = 0  # first index of a numbering (0000 or 0001)
    target_after_source: bool = False  # target indices continue after the source ones
    eval_start: int = 0  # first index of the evaluation test names
    joined: bool = False  # "weight15_BckgF" rather than "weight_15_Bckg_F"
    compact: bool = False  # attributes without separators: "A1Spd28VMic1"
    long_clips: bool = False  # clips 20% longer (12 s where the others are 10 s)
    supplemental: str = "machine"  # supplemental recordings: "machine" (no background), "noise"

    def combinations(self, domain: str) -> List[Tuple[str, ...]]:
        """Attribute value combinations of a domain, in a fixed order."""
        return list(itertools.product(*(getattr(a, domain) for a in self.attributes)))

    def suffix(self, values: Sequence[str]) -> str:
        """The attribute part of a file name."""
        sep = "" if self.joined or self.compact else "_"
        return ("" if self.compact else "_").join(
            f"{a.name}{sep}{v}" for a, v in zip(self.attributes, values))

    def seconds(self, duration: float) -> float:
        """Clip length: ``duration``, 20% longer for ``long_clips`` types."""
        return duration * 1.2 if self.long_clips else duration


def size_field(default, help_text: str):
    """A field of a sizes dataclass: its default and the help of its make_synthetic option."""
    return dataclasses.field(default=default, metadata={"help": help_text})


DEV_TYPE_MODELS: Dict[str, TypeModel] = {
    "bearing": TypeModel("ToyConveyor", (attr("vel", "speed", "6 10 14", "22"),
                                         attr("loc", "timbre", "A B", "A B"))),
    "fan": TypeModel("fan", (attr("m-n", "background", "W X", "Y Z"),)),
    "gearbox": TypeModel("ToyCar", (attr("volt", "speed", "1.0 1.3", "1.8"),
                                    attr("wt", "load", "0 30", "80"))),
    "slider": TypeModel("slider", (attr("vel", "speed", "300 500", "900"),
                                   attr("ac", "load", "0.1 0.3", "0.5"))),
    "ToyCar": TypeModel("ToyCar", (attr("car", "timbre", "A1 A2", "B1"),
                                   attr("spd", "speed", "28V 31V", "31V"),
                                   attr("mic", "timbre", "1", "2"))),
    "ToyTrain": TypeModel("ToyConveyor", (attr("train", "timbre", "A1 A2", "B1"),
                                          attr("spd", "speed", "3 4", "5"))),
    "valve": TypeModel("valve", (attr("v1pat", "timbre", "00 01", "02"),
                                 attr("v2pat", "timbre", "00", "01"))),
}
"""The development types of DCASE 2022-2025 (the same seven machines every year): sound
family and attributes (source / target values), numbered from 0000. The attribute names
follow the 2024 task description where it lists them; the values are illustrative."""


# --------------------------------------------------------------------------- sound
def type_params(seed: int, machine: str, family: str, section: str = "00") -> Dict:
    """Base parameter set of one section of a type, drawn from ``(seed, type, section)``."""
    rng = make_rng(seed, machine, f"section_{section}", "type_params")
    params = MACHINE_MODELS[family](rng)
    params["level_db"] = rng.uniform(-28, -20)
    return params


def _speed(q: Dict, extra: Dict, rank: float, keys: Tuple) -> None:
    """Faster machine: higher rotation frequency, shorter event period, higher resonances."""
    q["f0"] *= SPEED_STEP ** rank
    for key in ("period", "stroke"):
        if key in q:
            q[key] /= SPEED_STEP ** rank
    q["resonances"] = [(fc * SPEED_STEP ** (rank / 2), bw, g) for fc, bw, g in q["resonances"]]


def _load(q: Dict, extra: Dict, rank: float, keys: Tuple) -> None:
    """Heavier load: louder tones, clicks and resonances, resonances higher, brighter spectrum."""
    for key in ("tonal_db", "click_db", "stroke_db"):
        if key in q:
            q[key] += LOAD_STEP_DB * rank
    gain = 10 ** (LOAD_STEP_DB * rank / 20)
    q["resonances"] = [(fc * SPEED_STEP ** (rank / 2), bw, g * gain)
                       for fc, bw, g in q["resonances"]]
    q["tilt"] -= 0.15 * rank


def _timbre(q: Dict, extra: Dict, rank: float, keys: Tuple) -> None:
    """Another model, microphone or mounting: a random (per value) colouring of the sound."""
    rng = make_rng(*keys, "timbre")
    moved = [(fc * np.exp(rng.uniform(-0.3, 0.3)), bw, g * np.exp(rng.normal(0, 0.3)))
             for fc, bw, g in q["resonances"]]
    q["resonances"] = moved + random_resonances(rng, 1, 300, 5000, bw=(0.05, 0.15), gain=(2.0, 4.0))
    q["partials"] = [(m, a * np.exp(rng.normal(0, 0.4))) for m, a in q["partials"]]
    q["tilt"] += rng.uniform(-0.25, 0.25)


def _background(q: Dict, extra: Dict, rank: float, keys: Tuple) -> None:
    """Another factory background: three noise bands of the attribute, moved by the value,
    and a level that grows with it."""
    rng = make_rng(*keys[:-1], "background")  # the bands of the attribute, not of the value
    bands = random_resonances(rng, 3, 200, 2500, bw=(0.03, 0.1), gain=(1.0, 3.0))
    step = BACKGROUND_STEP ** rank
    extra["resonances"] = extra["resonances"] + [(fc * step, bw * step, g) for fc, bw, g in bands]
    extra["snr_offset"] -= 4.0 + 1.5 * rank


EFFECTS = {"speed": _speed, "load": _load, "timbre": _timbre, "background": _background}
"""Attribute effect -> ``f(params, background, rank, (seed, machine, attribute, value))``,
where ``rank`` is the value's position among the attribute's values, centred on 0."""


def apply_attributes(p: Dict, model: TypeModel, values: Sequence[str], seed: int,
                     machine: str) -> Tuple[Dict, Dict]:
    """Parameters of a type under given attribute values, and the background they add:
    ``(params, {"resonances", "snr_offset"})``. Deterministic in ``(seed, machine, values)``."""
    q = dict(p)
    extra = {"resonances": [], "snr_offset": 0.0}
    for attribute, value in zip(model.attributes, values):
        rank = attribute.values.index(value) - (len(attribute.values) - 1) / 2
        EFFECTS[attribute.effect](q, extra, rank, (seed, machine, attribute.name, value))
    return q, extra


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one synthetic file."""

    path: str
    machine: str
    model: TypeModel
    split: str  # train / test
    domain: str  # source / target
    label: str  # normal / anomaly
    index: int
    values: Tuple[str, ...]  # one value per attribute of the type
    seconds: float
    seed: int
    section: str = "00"
    keyed_section: bool = False  # the section enters the clip's random keys
    severity: Tuple[float, float] = DEFAULT_SEVERITY
    snr_db: Tuple[float, float] = DEFAULT_SNR_DB


def synthesize(spec: ClipSpec) -> np.ndarray:
    """Float waveform in [-1, 1) of one clip (deterministic given ``spec``)."""
    section = (f"section_{spec.section}",) if spec.keyed_section else ()
    rng = make_rng(spec.seed, spec.machine, *section, spec.split, spec.domain, spec.label,
                   spec.index)
    base = type_params(spec.seed, spec.machine, spec.model.family, spec.section)
    q, extra = apply_attributes(base, spec.model, spec.values, spec.seed, spec.machine)
    q = jitter_params(q, rng)
    if spec.label == "anomaly":
        q = apply_fault(q, str(rng.choice(q["faults"])), rng.uniform(*spec.severity), rng)
    n = int(round(spec.seconds * SR))
    machine = render_machine(q, n, rng)
    snr = rng.uniform(*spec.snr_db) + extra["snr_offset"]
    noise = background(n, rng)
    if extra["resonances"]:
        noise = unit_rms(noise + 3.0 * shaped_noise(n, extra["resonances"], 0.5, rng))
    return mix_clip(machine, noise, snr, q["level_db"])


def write_clip(spec: ClipSpec) -> str:
    """Synthesize ``spec`` and write it to ``spec.path``."""
    write_wav(spec.path, synthesize(spec))
    return spec.path


def synthesize_supplemental(spec: ClipSpec) -> np.ndarray:
    """A supplemental recording (``spec.split`` = ``supplemental``): the normal machine
    sound without background for kind ``machine``, the background alone for ``noise``."""
    rng = make_rng(spec.seed, spec.machine, spec.split, spec.model.supplemental, spec.index)
    n = int(round(spec.seconds * SR))
    base = type_params(spec.seed, spec.machine, spec.model.family, spec.section)
    q, _ = apply_attributes(base, spec.model, spec.values, spec.seed, spec.machine)
    if spec.model.supplemental == "noise":
        return mix_clip(background(n, rng), np.zeros(n), 0.0, q["level_db"])
    return mix_clip(render_machine(jitter_params(q, rng), n, rng), np.zeros(n), 0.0,
                    q["level_db"])


def write_supplemental(spec: ClipSpec) -> str:
    write_wav(spec.path, synthesize_supplemental(spec))
    return spec.path


# --------------------------------------------------------------------------- layout
def clip_name(layout: SectionLayout, model: TypeModel, machine: str, section: str, split: str,
              domain: str, label: str, index: int, values: Sequence[str],
              eval_list: bool = False) -> str:
    """Official full name of a clip; ``eval_list``: its name in the evaluation list, without
    the ``test`` token for the types whose list omits it, with the hidden attributes where
    the list shows them."""
    hidden = layout.hides_attributes(machine, split)
    if split == "test" and not layout.test_attributes:
        suffix = ""
    elif hidden and (layout.listed_attributes_hidden or not eval_list):
        suffix = f"_{NO_ATTRIBUTE}"
    else:
        suffix = f"_{model.suffix(values)}"
    token = "" if eval_list and machine in layout.no_test_token else f"{split}_"
    return f"section_{section}_{domain}_{token}{label}_{index:04d}{suffix}.wav"


@dataclasses.dataclass
class Plan:
    """Clip specs, supplemental specs, evaluation-list rows, ground-truth rows
    ``(machine, section, evaluation name, label, domain)`` and attributes_XX.csv rows."""

    specs: List[ClipSpec] = dataclasses.field(default_factory=list)
    supplemental: List[ClipSpec] = dataclasses.field(default_factory=list)
    eval_rows: List[Tuple[str, str, str]] = dataclasses.field(default_factory=list)
    truth_rows: List[Tuple[str, str, str, str, str]] = dataclasses.field(default_factory=list)
    attribute_rows: Dict[Path, List[Tuple[str, ...]]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Section:
    """One section of one type being planned."""

    layout: SectionLayout
    models: Mapping[str, TypeModel]
    machine: str
    section: str
    top: Path  # <out>/dev_data/<M> or <out>/eval_data/<M>
    evaluation: bool
    keyed: bool

    @property
    def model(self) -> TypeModel:
        return self.models[self.machine]

    def test_folder(self, domain: str) -> str:
        return f"{domain}_test" if len(self.layout.test_dirs) > 1 else "test"

    def name(self, spec: ClipSpec, eval_list: bool = False) -> str:
        return clip_name(self.layout, self.model, self.machine, self.section, spec.split,
                         spec.domain, spec.label, spec.index, spec.values, eval_list)

    def shuffle_key(self, *more) -> Tuple:
        section = (f"section_{self.section}",) if self.keyed else ()
        return (self.machine, *section, *more, "eval_shuffle")


def _counts(sizes) -> Dict[str, Dict[str, int]]:
    return {"train": {"source": sizes.source_train, "target": sizes.target_train},
            "test": {"source": sizes.test_per_condition, "target": sizes.test_per_condition}}


def _plan_section(plan: Plan, s: _Section, seed: int, sizes, severity) -> None:
    """Every file of one section: training and test clips, attribute rows, and for an
    evaluation section the shuffled, renamed test clips and their list rows."""
    model, counts = s.model, _counts(sizes)
    csv_rows = None
    if s.layout.attribute_files:
        csv_rows = plan.attribute_rows.setdefault(s.top / f"attributes_{s.section}.csv", [])
    originals = []
    for split, label, domain in itertools.product(("train", "test"), ("normal", "anomaly"),
                                                  ("source", "target")):
        if split == "train" and label == "anomaly":
            continue
        combos = model.combinations(domain)
        offset = counts[split]["source"] if model.target_after_source and domain == "target" else 0
        for k in range(counts[split][domain]):
            spec = ClipSpec("", s.machine, model, split, domain, label, model.start + offset + k,
                            combos[k % len(combos)], model.seconds(sizes.duration), seed,
                            s.section, s.keyed, tuple(severity))
            if split == "test" and s.evaluation:
                originals.append(spec)
                continue
            folder = split if split == "train" else s.test_folder(domain)
            name = s.name(spec)
            plan.specs.append(dataclasses.replace(spec, path=str(s.top / folder / name)))
            if csv_rows is not None:
                csv_rows.append((f"{s.machine}/{folder}/{name}",
                                 *_csv_values(s.layout, model, s.machine, split, spec.values)))
    if s.evaluation:
        _plan_eval_test(plan, s, originals, seed)


def _plan_eval_test(plan: Plan, s: _Section, originals: List[ClipSpec], seed: int) -> None:
    if s.layout.eval_names_keep_domain:
        for domain in ("source", "target"):
            mine = [o for o in originals if o.domain == domain]
            order = make_rng(seed, *s.shuffle_key(domain)).permutation(len(mine))
            for new_index, k in enumerate(order):
                spec = dataclasses.replace(mine[k], index=s.model.eval_start + new_index)
                eval_name = f"section_{s.section}_{domain}_test_{spec.index:04d}.wav"
                folder = s.test_folder(domain)
                plan.specs.append(dataclasses.replace(spec, path=str(s.top / folder / eval_name)))
                plan.eval_rows.append((s.machine, eval_name, s.name(spec, eval_list=True)))
                plan.truth_rows.append((s.machine, s.section, eval_name, spec.label, domain))
        return
    order = make_rng(seed, *s.shuffle_key()).permutation(len(originals))
    listed = order
    if s.machine in s.layout.list_disagrees:
        listed = order[make_rng(seed, *s.shuffle_key("list")).permutation(len(order))]
    for new_index, (k, k_listed) in enumerate(zip(order, listed)):
        spec = originals[k]
        eval_name = f"section_{s.section}_{s.model.eval_start + new_index:04d}.wav"
        plan.specs.append(dataclasses.replace(spec, path=str(s.top / "test" / eval_name)))
        plan.eval_rows.append((s.machine, eval_name, s.name(originals[k_listed], eval_list=True)))
        plan.truth_rows.append((s.machine, s.section, eval_name, spec.label, spec.domain))


def _plan_supplemental(plan: Plan, layout: SectionLayout, model: TypeModel, machine: str,
                       top: Path, section: str, seed: int, sizes) -> None:
    """``<M>/supplemental/section_00_<kind>_NNNN_noAttribute.wav``, numbered from 0001 (the
    organisers' README lists ``section_00_machine_0001_<attr>.wav``; the full grammar is
    not verified)."""
    values = model.combinations("source")[0]
    for i in range(1, sizes.supplemental + 1):
        name = f"section_{section}_{model.supplemental}_{i:04d}_{NO_ATTRIBUTE}.wav"
        plan.supplemental.append(ClipSpec(str(top / SUPPLEMENTAL_DIR / name), machine, model,
                                          "supplemental", "source", "normal", i, values,
                                          model.seconds(sizes.duration), seed, section))


def plan_corpus(layout: SectionLayout, models: Mapping[str, TypeModel], out, seed: int, sizes,
                machines: Sequence[str], severity=DEFAULT_SEVERITY) -> Plan:
    """Every file of the corpus (module docstring). Each domain's clips cycle through that
    domain's attribute combinations."""
    out = Path(out)
    plan = Plan()
    for m in machines:
        folders = [(f, f == EVAL_DIR) for f in (DEV_DIR, EVAL_DIR) if m in layout.types(f)]
        keyed = len({s for f, _ in folders for s in layout.sections(f)}) > 1
        for folder, evaluation in folders:
            sections = layout.sections(folder)
            for section in sections:
                _plan_section(plan, _Section(layout, models, m, section, out / folder / m,
                                             evaluation, keyed), seed, sizes, severity)
            if layout.supplemental and getattr(sizes, "supplemental", 0):
                _plan_supplemental(plan, layout, models[m], m, out / folder / m, sections[0],
                                   seed, sizes)
    return plan


def _csv_values(layout: SectionLayout, model: TypeModel, machine: str, split: str,
                values: Sequence[str]) -> Tuple[str, ...]:
    """``d1p, d1v, d2p, d2v, ...`` of one attributes_XX.csv row."""
    if layout.hides_attributes(machine, split):
        return (NO_ATTRIBUTE, "")
    return tuple(x for a, v in zip(model.attributes, values) for x in (a.name, v))


def write_attribute_csv(path: Path, rows: List[Tuple[str, ...]]) -> None:
    """``file_name,d1p,d1v[,d2p,d2v...]`` header and one row per listed file."""
    width = max(len(r) for r in rows) - 1
    header = ["file_name"] + [f"d{i}{k}" for i in range(1, width // 2 + 1) for k in "pv"]
    with atomic_write(path) as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(row + ("",) * (width + 1 - len(row))) + "\n")


def check_sizes(sizes, models: Mapping[str, TypeModel], machines: Sequence[str],
                severity) -> None:
    """Positive sizes, and enough training clips for every attribute combination."""
    if sizes.duration <= 0 or min(sizes.source_train, sizes.target_train,
                                  sizes.test_per_condition) < 1 \
            or getattr(sizes, "supplemental", 0) < 0:
        raise ValueError(f"synthetic corpus sizes must be positive, got {sizes}")
    for m in machines:
        for domain, have, option in (("source", sizes.source_train, "--source_train"),
                                     ("target", sizes.target_train, "--target_train")):
            need = len(models[m].combinations(domain))
            if have < need:
                raise ValueError(f"{option} {have} is too small for {m}: its {domain} domain has "
                                 f"{need} attribute combinations, each needs a training clip")
    check_severity(severity)


def write_corpus(layout: SectionLayout, models: Mapping[str, TypeModel], out, seed: int, sizes,
                 machines: Optional[Sequence[str]] = None, severity=DEFAULT_SEVERITY,
                 nj: int = 1) -> int:
    """Write a synthetic corpus in the official layout of ``layout``; returns the clip count.

    A marker ``.synthetic.json`` records the arguments: a re-run with the same arguments
    skips a complete corpus (returns 0) and redoes an interrupted one; other arguments, or
    a non-empty directory that this function did not write, are an error.
    """
    machines = tuple(machines or layout.machine_types)
    check_sizes(sizes, models, machines, severity)
    args = dict(layout=layout.name, seed=seed, sizes=dataclasses.asdict(sizes),
                machines=list(machines), severity=list(severity))
    out = Path(out)
    if claim_out_dir(out, args):
        logger.info("%s already holds this synthetic corpus; nothing to do", out)
        return 0
    plan = plan_corpus(layout, models, out, seed, sizes, machines, severity)
    count = len(plan.specs) + len(plan.supplemental)
    logger.info("writing %d clips to %s with %d job(s)", count, out, nj)
    write_clips(plan.specs, nj, writer=write_clip)
    if plan.supplemental:
        write_clips(plan.supplemental, nj, writer=write_supplemental)
    for path, rows in plan.attribute_rows.items():
        write_attribute_csv(path, rows)
    if plan.eval_rows:
        layout.write_eval_list(out / layout.eval_list_name, plan.eval_rows)
    if plan.truth_rows and layout.evaluator is not None:
        ground_truth.write_files(out / ground_truth.GROUND_TRUTH_DIR, layout.evaluator.per_domain,
                                 plan.truth_rows)
    write_marker(out, args, complete=True)
    return count
