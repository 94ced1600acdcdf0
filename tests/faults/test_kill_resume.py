"""``kill -9`` during dump, training, inference and scoring, then the same command again.

After the kill no final name holds a partial file: each output is the previous complete
one or the new complete one, and only a temporary ``.<name>.<host>.<pid>.*.tmp`` file
may be left. The re-run removes that file (logged) and ends with outputs byte-equal to
an uninterrupted run (for training: the same weights, bit for bit).

Dump and training are killed from outside at a moment seen by polling (part of the
archive written; the first epoch saved); inference and scoring, which write everything
in their last milliseconds, are killed by :mod:`killpoint` just before one output is
renamed into place.
"""
import logging
import os
import signal
import socket
import subprocess
import sys

import kaldiio
import numpy as np
import torch
from faultkit import (
    EPOCHS,
    as_new_process,
    entry_env,
    fault,
    kill_when,
    run_entry,
    run_killed_before_rename,
    snapshot,
    temp_files,
    write_scp,
    write_wav,
)

from asd_lib.bin import infer, score
from asd_lib.utils.checkpoint import load_safe
from asd_lib.utils.fileio import atomic_write, remove_stale_temps


def partial_files(directory, prefix):
    """Temporary files in ``directory`` (not recursive) whose name starts with ``prefix``."""
    return [e for e in os.scandir(directory) if e.name.startswith(prefix)
            and e.name.endswith(".tmp")]


# ------------------------------------------------------------------------------ dump

@fault('kill -9 in stage 2', 'recovery',
       'the re-run completes the dump')
def test_dump_killed_while_writing_its_archive(tmp_path):
    rng = np.random.default_rng(0)
    wavs = [write_wav(tmp_path / "corpus" / f"{i:02d}.wav",
                      rng.integers(-3000, 3000, 1600).astype(np.int16)) for i in range(20)]
    rows = [(f"utt{k:05d}", wavs[k % 20]) for k in range(1500)]
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    for run in (killed, reference):
        write_scp(run / "wav.scp", rows)
    args = ["--wav_scp", "wav.scp", "--out_prefix", "dump/feats.1", "--segment_sec", "0.1",
            "--copy", "always"]
    # An earlier complete dump of the same prefix (an older wav.scp of 50 clips).
    write_scp(killed / "old.scp", rows[:50])
    earlier = run_entry("asd_lib.bin.dump", ["--wav_scp", "old.scp", *args[2:]], killed)
    assert earlier.returncode == 0, earlier.stderr
    before = snapshot(killed / "dump")

    proc = subprocess.Popen([sys.executable, "-m", "asd_lib.bin.dump", *args], cwd=killed,
                            env=entry_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Killed once about 80 of the 1500 clips are in the temporary archive.
    kill_when(proc, lambda: any(e.stat().st_size > 256_000
                                for e in partial_files(killed / "dump", ".feats.1.ark.")))
    temps = temp_files(killed / "dump")
    assert len(temps) == 1 and temps[0].startswith(".feats.1.ark.")
    assert f".{proc.pid}." in temps[0]
    assert (killed / "dump" / temps[0]).stat().st_size < 1500 * 3200
    assert {k: v for k, v in snapshot(killed / "dump").items() if k not in temps} == before

    rerun = run_entry("asd_lib.bin.dump", args, killed)
    assert rerun.returncode == 0, rerun.stderr
    assert (f"removed {killed / 'dump' / temps[0]}, a partial feats.1.ark left by a killed "
            f"run (pid {proc.pid})") in rerun.stderr
    assert run_entry("asd_lib.bin.dump", args, reference).returncode == 0
    assert snapshot(killed / "dump") == snapshot(reference / "dump")
    assert len(kaldiio.load_scp(str(reference / "dump/feats.1.scp"))) == 1500


# -------------------------------------------------------------------------- training

@fault('kill -9 in stage 3', 'byte-identical resume',
       'resumes from the checkpoint to the same weights')
def test_training_killed_after_its_first_epoch(trained, tmp_path, monkeypatch, caplog):
    exp = tmp_path / "exp"
    proc = subprocess.Popen([sys.executable, "-m", "asd_lib.bin.train",
                             *trained.train_args(exp)], cwd=tmp_path, env=entry_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # train_history.csv is the last file written when an epoch ends.
    kill_when(proc, lambda: (exp / "train_history.csv").exists())
    state = load_safe(exp / "checkpoint.pth")
    done = state["global_epoch"]
    assert 1 <= done < EPOCHS
    assert (exp / "latest.pth").resolve() == exp / "snapshots" / f"epoch{done}.pth"
    assert set(load_safe(exp / "latest.pth")) == {"model", "head"}
    assert len((exp / "train_history.csv").read_text().splitlines()) == 1 + done

    as_new_process(monkeypatch)
    with caplog.at_level(logging.INFO):
        trained.train(exp)
    assert f"resuming from {exp / 'checkpoint.pth'}: stage 0 (arcface), at the end of " \
           f"global epoch {done}" in caplog.messages
    assert temp_files(exp) == []
    for name in ("latest.pth", "checkpoint.pth"):
        resumed = torch.load(exp / name, weights_only=True)
        full = torch.load(trained.exp / name, weights_only=True)
        for part in ("model", "head"):
            for key, value in full[part].items():
                assert torch.equal(value, resumed[part][key]), (name, key)
    assert len((exp / "train_history.csv").read_text().splitlines()) == 1 + EPOCHS


# ------------------------------------------------------------------------- inference

@fault('kill -9 in stage 4', 'recovery',
       'the earlier scores stay until the re-run replaces them')
def test_inference_killed_before_its_scores_are_renamed(trained, tmp_path, monkeypatch):
    killed, reference = tmp_path / "killed", tmp_path / "reference"

    def args(checkpoint):
        return ["--exp_dir", str(trained.exp), "--data_dir", str(trained.data), "--out_dir",
                "out", "--train_dir", str(trained.data), "--train_out_dir", "out",
                "--checkpoint", checkpoint, "--score", "neg_log_prob", "--num_threads", "1",
                "--verbose", "0"]

    for run in (killed, reference):
        run.mkdir()
    monkeypatch.chdir(reference)
    infer.main(args("latest"))
    expected = snapshot(reference / "out")
    monkeypatch.chdir(killed)
    infer.main(args("epoch1"))  # the earlier outputs, from another checkpoint
    before = snapshot(killed / "out")
    assert before["utt2score"] != expected["utt2score"]

    run_killed_before_rename("utt2score", "asd_lib.bin.infer", args("latest"), killed)
    after = snapshot(killed / "out")
    temps = temp_files(killed / "out")
    assert len(temps) == 1 and temps[0].startswith(".utt2score.")
    assert after["utt2score"] == before["utt2score"]
    # The embeddings, written before the scores, are the new ones and complete.
    embeddings = [k for k in expected if k.startswith("embeddings.")]
    assert {k: after[k] for k in embeddings} == {k: expected[k] for k in embeddings}

    as_new_process(monkeypatch)
    infer.main(args("latest"))
    assert snapshot(killed / "out") == expected


# --------------------------------------------------------------------------- scoring

def write_scoring_set(root, shift: float):
    """Two fan IDs, 4 normal + 2 anomalous clips each, scores in the official CSVs."""
    rows = {name: [] for name in ("wav.scp", "utt2machine", "utt2section", "utt2label")}
    for section in ("id_00", "id_02"):
        scores = []
        for label, count in (("normal", 4), ("anomaly", 2)):
            for i in range(count):
                name = f"{label}_{section}_{i:08d}"
                utt = f"fan-{name}"
                rows["wav.scp"].append((utt, f"/corpus/fan/test/{name}.wav"))
                rows["utt2machine"].append((utt, "fan"))
                rows["utt2section"].append((utt, section))
                rows["utt2label"].append((utt, label))
                value = i + (3 if label == "anomaly" else 0) + shift * (i % 3)
                scores.append(f"{name}.wav,{value!r}\n")
        (root / "scores").mkdir(parents=True, exist_ok=True)
        (root / "scores" / f"anomaly_score_fan_{section}.csv").write_text("".join(scores))
    for name, table in rows.items():
        write_scp(root / "data" / name, sorted(table))


@fault('kill -9 in stage 5', 'recovery',
       'the re-run writes every result file')
def test_scoring_killed_between_its_result_files(tmp_path, monkeypatch):
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    args = ["--data_dir", "data", "--score_dir", "scores", "--verbose", "0"]
    write_scoring_set(reference, shift=2.5)
    monkeypatch.chdir(reference)
    score.main(args)
    expected = snapshot(reference / "scores")
    write_scoring_set(killed, shift=0.0)
    monkeypatch.chdir(killed)
    score.main(args)  # the earlier results, of other scores
    before = snapshot(killed / "scores")
    assert before["result.json"] != expected["result.json"]
    write_scoring_set(killed, shift=2.5)

    # result.csv, result.md, result.json are written in turn; killed before result.md lands.
    run_killed_before_rename("result.md", "asd_lib.bin.score", args, killed)
    after = snapshot(killed / "scores")
    temps = temp_files(killed / "scores")
    assert len(temps) == 1 and temps[0].startswith(".result.md.")
    assert after["result.csv"] == expected["result.csv"]
    assert after["result.md"] == before["result.md"]
    assert after["result.json"] == before["result.json"]

    as_new_process(monkeypatch)
    score.main(args)
    assert snapshot(killed / "scores") == expected


# ------------------------------------------------------------------- the clean-up rule

@fault('temporary files of killed writers', 'recovery',
       'removed; those of live writers are kept')
def test_only_temporary_files_of_dead_writers_on_this_host_are_removed(tmp_path):
    code = ("import os, signal; from asd_lib.utils.fileio import atomic_write\n"
            "with atomic_write('checkpoint.pth', 'wb') as f:\n"
            "    f.write(b'partial'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)")
    with atomic_write(tmp_path / "checkpoint.pth", "wb"):  # a live writer: this process
        (alive,) = temp_files(tmp_path)
        # A writer killed inside atomic_write leaves its temporary file behind.
        killed = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=entry_env())
        assert killed.wait() == -signal.SIGKILL
        (dead,) = set(temp_files(tmp_path)) - {alive}
        host = socket.gethostname()[:32]  # atomic_write cuts long host names
        assert dead.startswith(f".checkpoint.pth.{host}.{killed.pid}.") and dead.endswith(".tmp")
        # The same name from another host, and files that are not atomic_write's.
        others = [dead.replace(f".{host}.", ".otherhost."), ".checkpoint.pth.tmp",
                  "checkpoint.pth.tmp"]
        for name in others:
            (tmp_path / name).write_bytes(b"partial")
        assert remove_stale_temps(tmp_path) == [tmp_path / dead]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive, *others])
