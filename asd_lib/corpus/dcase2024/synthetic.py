"""Synthetic DCASE 2024 Task 2 corpus: 16 machine types, one section each, domain shift.

Written in exactly the official layout (:mod:`asd_lib.corpus.dcase2024.layout`):
``dev_data/<M>`` for
the 7 development types and ``eval_data/<M>`` for the 9 evaluation types, each with
``train/``, ``test/`` and ``attributes_00.csv``, plus ``eval_data_list_2024.csv`` (CRLF) that
maps the eval test files ``section_00_NNNN.wav`` to their full names.

**Sound.** Each type is one of the physical models of :mod:`asd_lib.corpus.sounds` (the
``family``: rotating machine, pump, slide rail, valve, geared motor, conveyor), with its own
parameter draw from ``(seed, type)``. **Attributes** are operating conditions that change that
sound: ``speed`` scales the rotation frequency, the event rate and (by its square root) the
resonances; ``load`` raises the tonal, click and resonance levels, moves the resonances up
and brightens the spectrum; ``timbre`` (machine model, microphone, mounting) moves the
resonances, reweights the partials, tilts the spectrum and adds a resonance of its own;
``background`` mixes a coloured factory noise whose bands and level depend on the value.
**Domain shift**: the target domain uses values of at least one attribute never heard in
the source domain, with few training clips (990 source + 10 target officially). Where the
official names hide the attributes (``noAttribute``), the sound still changes.
**Anomalies** are the randomised faults of :func:`asd_lib.corpus.sounds.apply_fault`.

**Names** follow the official irregularities, varied over the types: the first index is
0000 or 0001; some types number the target clips after the source ones (RoboticArm
0050-0099 after 0000-0049); RoboticArm and BrushlessMotor join attribute name and value
(``weight15_BckgF``, ``spd1000_BckgC``); RoboticArm's full eval names have no ``test`` token;
eval test indices start at 0000 or 0001. The attribute names of types whose attributes the
task description does not list are illustrative.

All randomness of a clip comes from ``(seed, type, split, domain, label, index)``; the
corpus is byte-identical for any number of jobs. ``attributes_00.csv`` of a hidden type
has ``d1p = noAttribute`` and an empty ``d1v`` (our choice; the organisers' files do not
show the row of a hidden type).
"""
import dataclasses
import itertools
import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from asd_lib.corpus.common import NO_ATTRIBUTE
from asd_lib.corpus.dcase2024 import layout as dcase2024
from asd_lib.corpus.sounds import (
    DEFAULT_SEVERITY, DEFAULT_SNR_DB, MACHINE_MODELS, SR, apply_fault, background,
    check_severity, claim_out_dir, jitter_params, make_rng, mix_clip, random_resonances,
    render_machine, shaped_noise, unit_rms, write_clips, write_marker, write_wav,
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
    """One operating condition: ``name`` (``d<i>p`` of attributes_00.csv) and its values."""

    name: str
    effect: str  # a key of EFFECTS
    source: Tuple[str, ...]
    target: Tuple[str, ...]

    @property
    def values(self) -> Tuple[str, ...]:
        """Every value, source first, in order (the order a speed or load grows in)."""
        return tuple(dict.fromkeys(self.source + self.target))


@dataclasses.dataclass(frozen=True)
class TypeModel:
    """How one machine type sounds and how its files are named."""

    family: str  # key of sounds.MACHINE_MODELS
    attributes: Tuple[Attribute, ...]
    start: int = 0  # first index of a numbering (0000 or 0001)
    target_after_source: bool = False  # target indices continue after the source ones
    eval_start: int = 0  # first index of the eval test names section_00_NNNN.wav
    joined: bool = False  # "weight15_BckgF" rather than "weight_15_Bckg_F"
    long_clips: bool = False  # clips 20% longer (12 s where the others are 10 s)

    def combinations(self, domain: str) -> List[Tuple[str, ...]]:
        """Attribute value combinations of a domain, in a fixed order."""
        return list(itertools.product(*(getattr(a, domain) for a in self.attributes)))

    def suffix(self, values: Sequence[str]) -> str:
        """The attribute part of a file name."""
        sep = "" if self.joined else "_"
        return "_".join(f"{a.name}{sep}{v}" for a, v in zip(self.attributes, values))


def _attr(name: str, effect: str, source: str, target: str) -> Attribute:
    """``_attr("spd", "speed", "1 2", "3")``: values separated by spaces."""
    return Attribute(name, effect, tuple(source.split()), tuple(target.split()))


TYPE_MODELS: Dict[str, TypeModel] = {
    "bearing": TypeModel("ToyConveyor", (_attr("vel", "speed", "6 10 14", "22"),
                                         _attr("loc", "timbre", "A B", "A B"))),
    "fan": TypeModel("fan", (_attr("m-n", "background", "W X", "Y Z"),)),
    "gearbox": TypeModel("ToyCar", (_attr("volt", "speed", "1.0 1.3", "1.8"),
                                    _attr("wt", "load", "0 30", "80"))),
    "slider": TypeModel("slider", (_attr("vel", "speed", "300 500", "900"),
                                   _attr("ac", "load", "0.1 0.3", "0.5"))),
    "ToyCar": TypeModel("ToyCar", (_attr("car", "timbre", "A1 A2", "B1"),
                                   _attr("spd", "speed", "28V 31V", "31V"),
                                   _attr("mic", "timbre", "1", "2")), start=1, long_clips=True),
    "ToyTrain": TypeModel("ToyConveyor", (_attr("train", "timbre", "A1 A2", "B1"),
                                          _attr("spd", "speed", "3 4", "5")),
                          start=1, long_clips=True),
    "valve": TypeModel("valve", (_attr("v1pat", "timbre", "00 01", "02"),
                                 _attr("v2pat", "timbre", "00", "01"))),
    "3DPrinter": TypeModel("slider", (_attr("mdl", "timbre", "A", "B"),
                                      _attr("spd", "speed", "1 2", "2 3")),
                           start=1, eval_start=1),
    "AirCompressor": TypeModel("pump", (_attr("prs", "load", "1 2", "3"),), start=1, eval_start=1),
    "Scanner": TypeModel("slider", (_attr("res", "timbre", "1", "2"),
                                    _attr("len", "speed", "2 3", "1")), start=1, eval_start=1),
    "ToyCircuit": TypeModel("ToyConveyor", (_attr("id", "timbre", "A1 A2 B1", "C1"),
                                            _attr("spd", "speed", "1 2", "4"),
                                            _attr("mic", "timbre", "1", "2")),
                            start=1, long_clips=True),
    "HoveringDrone": TypeModel("fan", (_attr("prop", "timbre", "A B", "C"),
                                       _attr("spd", "speed", "1 2", "3")),
                               start=1, long_clips=True),
    "HairDryer": TypeModel("fan", (_attr("mdl", "timbre", "A B", "C"),
                                   _attr("spd", "speed", "1 2", "3"))),
    "ToothBrush": TypeModel("ToyCar", (_attr("mdl", "timbre", "A B", "C"),
                                       _attr("mode", "load", "1 2", "3")), start=1),
    "RoboticArm": TypeModel("slider", (_attr("weight", "load", "00 15", "30"),
                                       _attr("Bckg", "background", "A C", "B E")),
                            target_after_source=True, joined=True),
    "BrushlessMotor": TypeModel("pump", (_attr("spd", "speed", "1000 2000", "1500"),
                                         _attr("Bckg", "background", "A C", "G")),
                                target_after_source=True, joined=True),
}
"""Per-type sound family, attributes (source / target values) and naming quirks."""


@dataclasses.dataclass(frozen=True)
class Dcase2024Sizes:
    """Clips per machine type (one section); defaults make a corpus a CPU demo can use."""

    duration: float = dataclasses.field(default=2.0, metadata={
        "help": "clip seconds (ToyCar, ToyTrain, ToyCircuit, HoveringDrone 20%% longer)"})
    source_train: int = dataclasses.field(default=40, metadata={
        "help": "source-domain training clips per machine type"})
    target_train: int = dataclasses.field(default=4, metadata={
        "help": "target-domain training clips per machine type"})
    test_per_condition: int = dataclasses.field(default=8, metadata={
        "help": "test clips per domain and label (source/target x normal/anomaly)"})


OFFICIAL_SIZES = Dcase2024Sizes(duration=10.0, source_train=990, target_train=10,
                                test_per_condition=50)
"""The official counts: 990 + 10 training clips, 4 x 50 test clips, 10 s (12 s) clips."""


def clip_seconds(machine: str, duration: float) -> float:
    """Clip length of a type: ``duration``, 20% longer for the ``long_clips`` types (the
    official lengths depend on the type, up to 12 s)."""
    return duration * 1.2 if TYPE_MODELS[machine].long_clips else duration


# --------------------------------------------------------------------------- sound
def type_params(seed: int, machine: str) -> Dict:
    """Base parameter set of a machine type, drawn from ``(seed, type)`` by its family."""
    rng = make_rng(seed, machine, "section_00", "type_params")
    params = MACHINE_MODELS[TYPE_MODELS[machine].family](rng)
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


def apply_attributes(p: Dict, values: Sequence[str], seed: int, machine: str) -> Tuple[Dict, Dict]:
    """Parameters of a type under given attribute values, and the background they add:
    ``(params, {"resonances", "snr_offset"})``. Deterministic in ``(seed, machine, values)``."""
    q = dict(p)
    extra = {"resonances": [], "snr_offset": 0.0}
    for attr, value in zip(TYPE_MODELS[machine].attributes, values):
        rank = attr.values.index(value) - (len(attr.values) - 1) / 2
        EFFECTS[attr.effect](q, extra, rank, (seed, machine, attr.name, value))
    return q, extra


@dataclasses.dataclass(frozen=True)
class ClipSpec2024:
    """Everything that determines one synthetic DCASE 2024 file."""

    path: str
    machine: str
    split: str  # train / test
    domain: str  # source / target
    label: str  # normal / anomaly
    index: int
    values: Tuple[str, ...]  # one value per attribute of the type
    seconds: float
    seed: int
    severity: Tuple[float, float] = DEFAULT_SEVERITY
    snr_db: Tuple[float, float] = DEFAULT_SNR_DB


def synthesize(spec: ClipSpec2024) -> np.ndarray:
    """Float waveform in [-1, 1) of one clip (deterministic given ``spec``)."""
    rng = make_rng(spec.seed, spec.machine, spec.split, spec.domain, spec.label, spec.index)
    q, extra = apply_attributes(type_params(spec.seed, spec.machine), spec.values, spec.seed,
                                spec.machine)
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


def write_clip(spec: ClipSpec2024) -> str:
    """Synthesize ``spec`` and write it to ``spec.path``."""
    write_wav(spec.path, synthesize(spec))
    return spec.path


# --------------------------------------------------------------------------- layout
def clip_name(machine: str, split: str, domain: str, label: str, index: int,
              values: Sequence[str], eval_list: bool = False) -> str:
    """Official full name of a clip; ``eval_list`` drops the ``test`` token for the types
    whose eval list omits it."""
    hidden = split in dcase2024.HIDDEN_ATTRIBUTES.get(machine, ())
    suffix = NO_ATTRIBUTE if hidden else TYPE_MODELS[machine].suffix(values)
    token = "" if eval_list and machine in dcase2024.NO_TEST_TOKEN else f"{split}_"
    return f"section_00_{domain}_{token}{label}_{index:04d}_{suffix}.wav"


@dataclasses.dataclass
class Plan:
    """Clip specs, eval-list rows and attributes_00.csv rows of a corpus."""

    specs: List[ClipSpec2024] = dataclasses.field(default_factory=list)
    eval_rows: List[Tuple[str, str, str]] = dataclasses.field(default_factory=list)
    attribute_rows: Dict[Path, List[Tuple[str, ...]]] = dataclasses.field(default_factory=dict)


def plan_dcase2024(out, seed: int, sizes: Dcase2024Sizes, machines: Sequence[str],
                   severity=DEFAULT_SEVERITY) -> Plan:
    """Every file of the corpus. Each domain's clips cycle through that domain's attribute
    combinations; eval test clips are generated under their full names, shuffled per type
    with a seeded generator and named ``section_00_NNNN.wav`` in that order."""
    out = Path(out)
    plan = Plan()
    counts = {"train": {"source": sizes.source_train, "target": sizes.target_train},
              "test": {"source": sizes.test_per_condition, "target": sizes.test_per_condition}}
    for m in machines:
        model = TYPE_MODELS[m]
        top = out / (dcase2024.DEV_DIR if m in dcase2024.DEV_TYPES else dcase2024.EVAL_DIR) / m
        csv_rows = plan.attribute_rows.setdefault(top / "attributes_00.csv", [])
        originals = []
        for split, label, domain in itertools.product(("train", "test"), ("normal", "anomaly"),
                                                      ("source", "target")):
            if split == "train" and label == "anomaly":
                continue
            combos = model.combinations(domain)
            after_source = model.target_after_source and domain == "target"
            offset = counts[split]["source"] if after_source else 0
            for k in range(counts[split][domain]):
                values = combos[k % len(combos)]
                index = model.start + offset + k
                spec = ClipSpec2024("", m, split, domain, label, index, values,
                                    clip_seconds(m, sizes.duration), seed, tuple(severity))
                if split == "test" and m in dcase2024.EVAL_TYPES:
                    originals.append(spec)
                    continue
                name = clip_name(m, split, domain, label, index, values)
                plan.specs.append(dataclasses.replace(spec, path=str(top / split / name)))
                csv_rows.append((f"{m}/{split}/{name}", *_csv_values(m, split, values)))
        order = make_rng(seed, m, "eval_shuffle").permutation(len(originals))
        for new_index, k in enumerate(order):
            spec = originals[k]
            eval_name = f"section_00_{model.eval_start + new_index:04d}.wav"
            plan.specs.append(dataclasses.replace(spec, path=str(top / "test" / eval_name)))
            full = clip_name(m, "test", spec.domain, spec.label, spec.index, spec.values, True)
            plan.eval_rows.append((m, eval_name, full))
    return plan


def _csv_values(machine: str, split: str, values: Sequence[str]) -> Tuple[str, ...]:
    """``d1p, d1v, d2p, d2v, ...`` of one attributes_00.csv row."""
    if split in dcase2024.HIDDEN_ATTRIBUTES.get(machine, ()):
        return (NO_ATTRIBUTE, "")
    return tuple(x for a, v in zip(TYPE_MODELS[machine].attributes, values) for x in (a.name, v))


def write_attribute_csv(path: Path, rows: List[Tuple[str, ...]]) -> None:
    """``file_name,d1p,d1v[,d2p,d2v...]`` header and one row per listed file."""
    width = max(len(r) for r in rows) - 1
    header = ["file_name"] + [f"d{i}{k}" for i in range(1, width // 2 + 1) for k in "pv"]
    with atomic_write(path) as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(row + ("",) * (width + 1 - len(row))) + "\n")


def _check_sizes(sizes: Dcase2024Sizes, machines: Sequence[str], severity) -> None:
    if sizes.duration <= 0 or min(sizes.source_train, sizes.target_train,
                                  sizes.test_per_condition) < 1:
        raise ValueError(f"synthetic corpus sizes must be positive, got {sizes}")
    for m in machines:
        for domain, have, option in (("source", sizes.source_train, "--source_train"),
                                     ("target", sizes.target_train, "--target_train")):
            need = len(TYPE_MODELS[m].combinations(domain))
            if have < need:
                raise ValueError(f"{option} {have} is too small for {m}: its {domain} domain has "
                                 f"{need} attribute combinations, each needs a training clip")
    check_severity(severity)


def write_dcase2024(out, seed: int, sizes: Dcase2024Sizes = Dcase2024Sizes(),
                    machines: Optional[Sequence[str]] = None, severity=DEFAULT_SEVERITY,
                    nj: int = 1) -> int:
    """Write a synthetic corpus in the official DCASE 2024 layout; returns the clip count.

    Resumable as :func:`asd_lib.corpus.dcase2020.synthetic.write_dcase2020`: a re-run with the same
    arguments skips a complete corpus and redoes an interrupted one.
    """
    machines = tuple(machines or dcase2024.MACHINE_TYPES)
    _check_sizes(sizes, machines, severity)
    args = dict(layout="dcase2024", seed=seed, sizes=dataclasses.asdict(sizes),
                machines=list(machines), severity=list(severity))
    out = Path(out)
    if claim_out_dir(out, args):
        logger.info("%s already holds this synthetic corpus; nothing to do", out)
        return 0
    plan = plan_dcase2024(out, seed, sizes, machines, severity)
    logger.info("writing %d clips to %s with %d job(s)", len(plan.specs), out, nj)
    write_clips(plan.specs, nj, writer=write_clip)
    for path, rows in plan.attribute_rows.items():
        write_attribute_csv(path, rows)
    if plan.eval_rows:
        dcase2024.write_eval_list(out / dcase2024.EVAL_LIST_NAME, plan.eval_rows)
    write_marker(out, args, complete=True)
    return len(plan.specs)

