"""Synthetic machine sounds and corpora written in an official DCASE layout.

Every machine type is a small physical model built from three generic components:

* a **harmonic** part: partials at multiples of a rotation / motor frequency ``f0`` with
  slow wow (frequency modulation) and optional amplitude modulation (which produces the
  sidebands f_k +- f_mod seen in spectra of unbalanced or misaligned rotors);
* a **shaped noise** part: Gaussian noise whose spectrum is a power-law tilt times a sum
  of Gaussian resonance bumps (airflow, fluid, belt friction), slowly modulated;
* a **transient** part: a quasi-periodic train of decaying resonant clicks (valve seats,
  slider end stops, conveyor rollers) and/or enveloped noise strokes (slider movement).

Each machine ID draws its own parameter set from ``(seed, type, id)``; each clip jitters it
a little and adds factory background noise at a random SNR, so IDs are distinguishable but
clips vary. Anomalies are subtle randomised faults (sidebands, impulses, frequency drift,
noise bursts, an extra resonance, irregular timing) whose severity is drawn from a range.

All randomness of a file comes from a ``numpy`` generator seeded with
``(seed, machine, id, split, index)``, so the corpus is byte-identical whatever the
number of parallel jobs. Each corpus package writes its own layout with these (e.g.
:mod:`asd_lib.corpus.dcase2020.synthetic`).
"""
import dataclasses
import json
import logging
import multiprocessing
import zlib
from pathlib import Path
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import soundfile
from scipy.signal import fftconvolve

from asd_lib.utils.fileio import atomic_write

SR = 16000
DEFAULT_SEVERITY = (0.3, 1.0)  # calibrated: the demo STgram-MFN reaches about 0.87 mean dev AUC
DEFAULT_SNR_DB = (3.0, 15.0)
MARKER = ".synthetic.json"

logger = logging.getLogger(__name__)


def make_rng(seed: int, *keys) -> np.random.Generator:
    """Generator for one (seed, keys...) tuple; strings enter through CRC32 (stable)."""
    entropy = [seed] + [k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


# --------------------------------------------------------------------------- components
def harmonic(n: int, f0: float, partials, rng: np.random.Generator, wow=(0.0, 1.0),
             drift: float = 0.0, am=(0.0, 1.0)) -> np.ndarray:
    """Sum of partials ``a * sin(m * phi(t) + theta)`` with ``phi' = 2 pi f0(t)``.

    ``partials``: (multiplier m, amplitude a) pairs; ``f0(t) = f0 (1 + d_w sin(2 pi r_w t)
    + drift t/T)``; amplitude modulation ``(1 + d_a sin(2 pi r_a t))`` adds sidebands.
    """
    t = np.arange(n) / SR
    wow_depth, wow_rate = wow
    f_inst = f0 * (1 + wow_depth * np.sin(2 * np.pi * wow_rate * t + rng.uniform(0, 2 * np.pi))
                   + drift * t / t[-1])
    phase = 2 * np.pi * np.cumsum(f_inst) / SR
    x = np.zeros(n)
    for mult, amp in partials:
        if mult * f0 * (1 + abs(drift) + wow_depth) < 0.45 * SR and amp > 1e-3:
            x += amp * np.sin(mult * phase + rng.uniform(0, 2 * np.pi))
    depth, rate = am
    if depth:
        x *= 1 + depth * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
    return x


def shaped_noise(n: int, resonances, tilt: float, rng: np.random.Generator,
                 floor: float = 0.05) -> np.ndarray:
    """Noise with magnitude spectrum ``f^-tilt/2 * (floor + sum_i g_i N(f; fc_i, bw_i))``,
    normalised to unit RMS. ``resonances``: (fc Hz, bw Hz, gain) triples."""
    f = np.fft.rfftfreq(n, 1 / SR)
    shape = np.full_like(f, floor)
    for fc, bw, gain in resonances:
        shape += gain * np.exp(-0.5 * ((f - fc) / bw) ** 2)
    shape *= np.maximum(f, 20.0) ** (-tilt / 2)
    spec = shape * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    return unit_rms(np.fft.irfft(spec, n))


def click(modes, rng: np.random.Generator) -> np.ndarray:
    """One decaying resonant click: ``sum_j a_j exp(-t/tau_j) sin(2 pi f_j t)``."""
    longest = max(tau for _, tau, _ in modes)
    t = np.arange(int(6 * longest * SR)) / SR
    out = np.zeros_like(t)
    for freq, tau, amp in modes:
        out += amp * np.exp(-t / tau) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return out


def event_times(n: int, period: float, jitter: float, rng: np.random.Generator,
                drop: float = 0.0, drift: float = 0.0) -> np.ndarray:
    """Quasi-periodic event times (s): period * (1 + jitter N(0,1)), randomly dropped."""
    duration = n / SR
    times, now = [], rng.uniform(0, period)
    while now < duration:
        if rng.uniform() >= drop:
            times.append(now)
        local = period * (1 - drift * now / duration)
        now += max(0.2 * local, local * (1 + jitter * rng.standard_normal()))
    return np.asarray(times)


def pulse_train(n: int, times: np.ndarray, kernel: np.ndarray, amps=None) -> np.ndarray:
    """Place ``kernel`` at ``times`` (s) with amplitudes ``amps`` (default 1)."""
    train = np.zeros(n)
    idx = (times * SR).astype(int)
    np.add.at(train, idx[idx < n], 1.0 if amps is None else np.asarray(amps)[idx < n])
    return fftconvolve(train, kernel)[:n]


def stroke_envelope(n: int, times: np.ndarray, length: float) -> np.ndarray:
    """Hann-shaped envelopes of ``length`` seconds starting at ``times``."""
    win = np.hanning(max(4, int(length * SR)))
    return np.minimum(pulse_train(n, times, win), 1.0)


def unit_rms(x: np.ndarray) -> np.ndarray:
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def db_to_gain(value: float) -> float:
    return 10 ** (value / 20)


# --------------------------------------------------------------------------- machine models
def _decay_partials(rng, count, slope, multipliers=None):
    """Partials with a random spectral envelope ``U(0.3,1) * k^-slope``."""
    mults = multipliers if multipliers is not None else np.arange(1, count + 1)
    return [(float(m), float(rng.uniform(0.3, 1.0) * (i + 1) ** -slope))
            for i, m in enumerate(mults)]


def random_resonances(rng, count, lo, hi, bw=(0.05, 0.25), gain=(0.5, 2.0)):
    out = []
    for _ in range(count):
        fc = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        out.append((fc, fc * float(rng.uniform(*bw)), float(rng.uniform(*gain))))
    return out


def random_modes(rng, count, lo, hi, tau=(0.002, 0.012)):
    return [(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))), float(rng.uniform(*tau)),
             float(rng.uniform(0.4, 1.0))) for _ in range(count)]


def fan_params(rng):
    """Fan: blade-pass harmonics (B blades x rotation f_rot) over broadband airflow noise."""
    f_rot, blades = rng.uniform(12, 25), int(rng.integers(5, 10))
    partials = [(float(k), float(rng.uniform(0.05, 0.2))) for k in (1, 2)]
    partials += _decay_partials(rng, 4, rng.uniform(0.8, 1.8), blades * np.arange(1, 5))
    return dict(f0=f_rot, partials=partials, wow=(rng.uniform(0.002, 0.01), rng.uniform(0.2, 1)),
                tonal_db=rng.uniform(-8, -2), resonances=random_resonances(rng, 2, 300, 3000),
                tilt=rng.uniform(0.3, 1.0), noise_mod=(rng.uniform(0, 0.1), f_rot),
                faults=("sideband", "impulses", "drift", "resonance", "noise_burst"))


def pump_params(rng):
    """Pump: motor harmonics plus slowly modulated fluid noise."""
    f0 = rng.uniform(20, 50)
    return dict(f0=f0, partials=_decay_partials(rng, 12, rng.uniform(0.5, 1.5)),
                wow=(rng.uniform(0.002, 0.01), rng.uniform(0.1, 0.5)), tonal_db=rng.uniform(-3, 3),
                resonances=random_resonances(rng, 2, 150, 1500), tilt=rng.uniform(0.8, 1.5),
                noise_mod=(rng.uniform(0.2, 0.5), rng.uniform(0.2, 1.5)),
                faults=("sideband", "drift", "noise_burst", "resonance", "impulses"))


def slider_params(rng):
    """Slide rail: back-and-forth strokes of friction noise ending in an end-stop click."""
    period = rng.uniform(0.25, 0.8)
    return dict(f0=rng.uniform(30, 80), partials=_decay_partials(rng, 4, 1.0),
                wow=(0.005, 0.5), tonal_db=rng.uniform(-14, -8),
                resonances=random_resonances(rng, 1, 400, 4000), tilt=rng.uniform(0.2, 0.8),
                noise_mod=(0.0, 1.0), period=period, jitter=rng.uniform(0.01, 0.04),
                stroke=rng.uniform(0.4, 0.8) * period, stroke_db=rng.uniform(-2, 2),
                modes=random_modes(rng, 2, 1000, 6000), click_db=rng.uniform(-4, 2),
                faults=("impulses", "timing", "noise_burst", "resonance", "sideband"))


def valve_params(rng):
    """Solenoid valve: periodic open / close clicks with a short flow hiss in between."""
    period = rng.uniform(0.2, 0.7)
    return dict(f0=50.0, partials=[], wow=(0.0, 1.0), tonal_db=-60.0,
                resonances=random_resonances(rng, 1, 2000, 6000), tilt=rng.uniform(0.0, 0.5),
                noise_mod=(0.0, 1.0), period=period, jitter=rng.uniform(0.005, 0.03),
                stroke=rng.uniform(0.2, 0.5) * period, stroke_db=rng.uniform(-10, -4),
                modes=random_modes(rng, 3, 800, 7000), click_db=rng.uniform(4, 8),
                close_ratio=rng.uniform(0.3, 0.8),
                faults=("impulses", "timing", "resonance", "noise_burst"))


def toycar_params(rng):
    """Toy car: DC-motor harmonics, a gear whine at a non-integer ratio, road noise."""
    ratio = rng.uniform(15, 40)
    partials = _decay_partials(rng, 10, 1.0)
    partials += [(ratio, float(rng.uniform(0.3, 0.8))), (2 * ratio, float(rng.uniform(0.05, 0.3)))]
    return dict(f0=rng.uniform(40, 110), partials=partials,
                wow=(rng.uniform(0.005, 0.02), rng.uniform(0.3, 1.0)), tonal_db=rng.uniform(-2, 4),
                resonances=random_resonances(rng, 1, 100, 600), tilt=rng.uniform(1.2, 2.0),
                noise_mod=(rng.uniform(0.05, 0.2), rng.uniform(0.3, 2.0)),
                faults=("drift", "sideband", "impulses", "resonance", "noise_burst"))


def toyconveyor_params(rng):
    """Toy conveyor: motor hum, periodic roller / belt-joint clicks, belt friction noise."""
    return dict(f0=rng.uniform(50, 100), partials=_decay_partials(rng, 5, 1.2),
                wow=(rng.uniform(0.002, 0.01), rng.uniform(0.2, 1.0)), tonal_db=rng.uniform(-4, 2),
                resonances=random_resonances(rng, 1, 300, 2000), tilt=rng.uniform(0.5, 1.2),
                noise_mod=(rng.uniform(0.0, 0.1), 1.0), period=rng.uniform(0.05, 0.25),
                jitter=rng.uniform(0.01, 0.03),
                modes=random_modes(rng, 2, 500, 3000, (0.005, 0.02)), click_db=rng.uniform(-6, 0),
                faults=("timing", "impulses", "noise_burst", "resonance", "sideband"))


MACHINE_MODELS = {
    "fan": fan_params, "pump": pump_params, "slider": slider_params, "valve": valve_params,
    "ToyCar": toycar_params, "ToyConveyor": toyconveyor_params,
}
"""Machine type -> function(rng) returning that ID's parameter set."""


def id_params(seed: int, machine: str, machine_id: str) -> Dict:
    """The parameter set of one machine ID, drawn from ``(seed, machine, id)``."""
    rng = make_rng(seed, machine, machine_id, "id_params")
    params = MACHINE_MODELS[machine](rng)
    params["level_db"] = rng.uniform(-28, -20)
    return params


def jitter_params(p: Dict, rng: np.random.Generator) -> Dict:
    """Small per-clip variation of an ID's parameters (operating point, wear, mounting)."""
    q = dict(p)
    q["f0"] = p["f0"] * (1 + 0.01 * rng.standard_normal())
    q["partials"] = [(m, a * np.exp(0.1 * rng.standard_normal())) for m, a in p["partials"]]
    q["resonances"] = [(fc * (1 + 0.02 * rng.standard_normal()), bw,
                        g * np.exp(0.1 * rng.standard_normal()))
                       for fc, bw, g in p["resonances"]]
    if "period" in p:
        q["period"] = p["period"] * (1 + 0.02 * rng.standard_normal())
    q["level_db"] = p["level_db"] + rng.uniform(-1, 1)
    q["tonal_db"] = p["tonal_db"] + rng.uniform(-1, 1)
    return q


# --------------------------------------------------------------------------- faults
def apply_fault(q: Dict, kind: str, severity: float, rng: np.random.Generator) -> Dict:
    """Fault that changes the machine's parameters before rendering (returns new params);
    ``impulses`` and ``noise_burst`` are added to the rendered signal (see
    :func:`_fault_signal`)."""
    q = dict(q, fault=kind, severity=severity)
    sign = rng.choice((-1.0, 1.0))
    if kind == "sideband":  # imbalance / looseness: AM at 2-12 Hz -> sidebands f_k +- f_mod
        q["am"] = (severity, rng.uniform(2.0, 12.0))
    elif kind == "drift":  # speed change / slipping belt: f0 (and period) drifts over the clip
        q["drift"] = sign * 0.35 * severity
    elif kind == "resonance":  # loosened part: a new narrow resonance
        fc = float(np.exp(rng.uniform(np.log(200), np.log(6000))))
        q["resonances"] = q["resonances"] + [(fc, fc * rng.uniform(0.02, 0.08), 10.0 * severity)]
    elif kind == "timing":  # sticking valve / roller: irregular and missing events
        q["jitter"] = q["jitter"] + 0.6 * severity
        q["drop"] = 0.6 * severity
    elif kind not in ("impulses", "noise_burst"):
        raise ValueError(f"unknown fault {kind!r}")
    return q


def _fault_signal(q: Dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """Additive part of ``impulses`` (bearing / gear damage) and ``noise_burst`` (rubbing,
    leaks, clogging) faults, relative to a unit-RMS machine signal."""
    fault, s = q.get("fault"), q.get("severity", 0.0)
    if fault == "impulses":
        times = rng.uniform(0, n / SR, size=int(rng.integers(1, 5 + int(3 * n / SR))))
        kernel = click(random_modes(rng, 2, 1000, 7000, (0.001, 0.006)), rng)
        return 8.0 * s * pulse_train(n, times, unit_rms(kernel) * 0.5,
                                     rng.uniform(0.5, 1.0, times.size))
    if fault == "noise_burst":
        length = rng.uniform(0.1, 0.4) * n / SR
        env = stroke_envelope(n, np.array([rng.uniform(0, n / SR - length)]), length)
        band = random_resonances(rng, 1, 300, 6000, bw=(0.1, 0.3), gain=(1, 1))
        return 3.0 * s * env * shaped_noise(n, band, 0.0, rng)
    return np.zeros(n)


# --------------------------------------------------------------------------- rendering
def render_machine(q: Dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """Machine signal (unit RMS) from a clip's parameter set."""
    drift = q.get("drift", 0.0)
    transient = "period" in q  # machines driven by events rather than rotation
    am = (0.0, 1.0) if transient else q.get("am", (0.0, 1.0))
    tonal = harmonic(n, q["f0"], q["partials"], rng, q["wow"], drift, am)
    noise = shaped_noise(n, q["resonances"], q["tilt"], rng)
    depth, rate = q["noise_mod"]
    if depth:
        t = np.arange(n) / SR
        noise *= 1 + depth * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
    if np.any(tonal):
        x = noise + db_to_gain(q["tonal_db"]) * unit_rms(tonal)
    else:
        x = noise
    if transient:
        times = event_times(n, q["period"], q["jitter"], rng, q.get("drop", 0.0), drift)
        if "stroke" in q:  # noise strokes (slider movement, valve flow) gate the noise part
            gate = stroke_envelope(n, times, q["stroke"])
            x = x * (0.15 + db_to_gain(q["stroke_db"]) * gate)
        clicks = pulse_train(n, times, unit_rms(click(q["modes"], rng)),
                             _click_amps(q, times))
        x = x + db_to_gain(q["click_db"]) * clicks * 0.3
        if "am" in q:  # sidebands on transient machines: modulate the whole signal
            depth, rate = q["am"]
            x *= 1 + depth * np.sin(2 * np.pi * rate * np.arange(n) / SR)
    x = unit_rms(x)
    return x + _fault_signal(q, n, rng)


def _click_amps(q: Dict, times: np.ndarray) -> np.ndarray:
    """Valves alternate a loud opening and a softer closing click; others are even."""
    amps = np.ones(times.size)
    if "close_ratio" in q:
        amps[1::2] = q["close_ratio"]
    return amps


def background(n: int, rng: np.random.Generator) -> np.ndarray:
    """Factory background: tilted noise, mains hum, and occasional distant clanks."""
    x = shaped_noise(n, random_resonances(rng, 2, 100, 4000, gain=(0.2, 1.0)),
                     rng.uniform(0.8, 1.8), rng)
    hum = harmonic(n, rng.choice((50.0, 60.0)), [(k, 1 / k) for k in (1, 2, 3)], rng)
    x += db_to_gain(rng.uniform(-20, -8)) * unit_rms(hum)
    times = rng.uniform(0, n / SR, size=rng.poisson(n / SR))
    if times.size:
        kernel = unit_rms(click(random_modes(rng, 2, 200, 3000, (0.01, 0.05)), rng))
        x += 0.3 * pulse_train(n, times, kernel, rng.uniform(0.2, 1.0, times.size))
    return unit_rms(x)


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one synthetic file."""

    path: str
    machine: str
    machine_id: str
    split: str
    index: int
    anomaly: bool
    seconds: float
    seed: int
    severity: Tuple[float, float] = DEFAULT_SEVERITY
    snr_db: Tuple[float, float] = DEFAULT_SNR_DB


def synthesize(spec: ClipSpec) -> np.ndarray:
    """Float waveform in [-1, 1) of one clip (deterministic given ``spec``)."""
    rng = make_rng(spec.seed, spec.machine, spec.machine_id, spec.split, spec.index)
    q = jitter_params(id_params(spec.seed, spec.machine, spec.machine_id), rng)
    if spec.anomaly:
        q = apply_fault(q, str(rng.choice(q["faults"])), rng.uniform(*spec.severity), rng)
    n = int(round(spec.seconds * SR))
    machine = render_machine(q, n, rng)
    snr = rng.uniform(*spec.snr_db)
    return mix_clip(machine, background(n, rng), snr, q["level_db"])


def mix_clip(machine: np.ndarray, noise: np.ndarray, snr_db: float, level_db: float) -> np.ndarray:
    """``machine + 10^(-snr/20) noise`` (both unit RMS) scaled to ``level_db`` dB RMS, then
    scaled down if needed so that no sample exceeds 0.98."""
    x = machine + db_to_gain(-snr_db) * noise
    x *= db_to_gain(level_db) / np.sqrt(np.mean(x ** 2))
    peak = np.max(np.abs(x))
    return x * (0.98 / peak) if peak > 0.98 else x


def write_wav(path, x: np.ndarray) -> None:
    """Write ``x`` as a 16 kHz mono int16 wav, atomically."""
    with atomic_write(Path(path), "wb") as f:
        soundfile.write(f, x, SR, subtype="PCM_16", format="WAV")


def write_clip(spec: ClipSpec) -> str:
    """Synthesize ``spec`` and write it to ``spec.path``."""
    write_wav(spec.path, synthesize(spec))
    return spec.path


def write_clips(specs: Sequence, nj: int = 1, writer: Callable = write_clip) -> None:
    """Write all clips with ``writer(spec)`` (a module-level function), in ``nj`` processes;
    the output does not depend on ``nj``."""
    if nj <= 1:
        for spec in specs:
            writer(spec)
        return
    with multiprocessing.get_context("fork").Pool(nj) as pool:
        for _ in pool.imap_unordered(writer, specs, chunksize=16):
            pass


def claim_out_dir(out: Path, args: Dict) -> bool:
    """True when ``out`` already holds a complete corpus made with ``args``."""
    marker = out / MARKER
    if marker.is_file():
        recorded = json.loads(marker.read_text())
        if recorded["args"] != args:
            raise ValueError(f"{out} holds a synthetic corpus made with other arguments "
                             f"({recorded['args']}); remove it or choose another --out")
        if recorded["complete"]:
            return True
    elif out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty and was not written by make_synthetic; "
                         "remove it or choose another --out")
    write_marker(out, args, complete=False)
    return False


def write_marker(out: Path, args: Dict, complete: bool) -> None:
    with atomic_write(out / MARKER) as f:
        json.dump({"args": args, "complete": complete}, f, indent=1)


def check_severity(severity) -> None:
    """A fault severity range must be LO,HI with 0 <= LO <= HI."""
    lo, hi = severity
    if not 0 <= lo <= hi:
        raise ValueError(f"--anomaly_severity must be LO,HI with 0 <= LO <= HI, got {lo},{hi}")


def parse_severity(text: str) -> Tuple[float, float]:
    """``"0.1,1.0"`` -> ``(0.1, 1.0)``."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError as err:
        raise ValueError(f"--anomaly_severity expects LO,HI (e.g. 0.1,1.0), got {text!r}") from err
    return lo, hi
