"""The staged training loop: epochs, held-out validation, checkpoints, resume.

Per batch: a :class:`~asd_lib.data.step.Step` goes through the stage's augmentations
(training only), the model (``model(wave, **step.model_kwargs)``) and every weighted loss
term of the stage. Stages differ in losses, sampler, augmentations, optimiser, schedule and
epochs; each starts from the weights the previous one left.

Reproducibility: every epoch reseeds torch with ``seed + global_epoch`` before shuffling,
augmenting and the forward passes, so a run resumed from the checkpoint of epoch N
continues exactly as the uninterrupted run would (bit-exact on CPU).

Pre-emption: on SIGTERM (what Slurm and SGE send before killing a job) the trainer finishes
the current batch, writes a mid-epoch checkpoint (weights, optimiser, RNG state, batches
done) and exits with status 143; the next run continues from that batch, again bit-exact.

A damaged checkpoint: each new ``checkpoint.pth`` keeps the one it replaces as
``checkpoint.prev.pth`` (:func:`~asd_lib.utils.checkpoint.save_rotated`); when
``checkpoint.pth`` is unreadable or gone, training resumes from that one (logged) and
trains the later epochs again, and the unreadable file is overwritten, never rotated into
``checkpoint.prev.pth``. When no checkpoint can be read, training resumes from the newest
readable snapshot, weights only (:mod:`asd_lib.train.fallback` says what is lost). A run
that finished epochs (``latest.pth``) but left no checkpoint is never restarted over its
snapshots: that is an error naming the fix.
"""
import csv
import logging
import math
import signal
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from asd_lib.augment import AUGMENTS
from asd_lib.data.content import ContentRecord, clip_digests, files_digest
from asd_lib.data.dataset import DumpedSet, WaveformDataset
from asd_lib.data.loader import make_loader
from asd_lib.data.samplers import SAMPLERS
from asd_lib.data.step import Step, forward
from asd_lib.experiment import (
    CONTENT_DIR,
    LABEL_FILES,
    TrainingLabels,
    build_model,
    read_training_labels,
    write_model_info,
)
from asd_lib.losses import OBJECTIVES
from asd_lib.models.attr_text import describe
from asd_lib.models.traits import traits
from asd_lib.train.config import TrainConfig
from asd_lib.train.distributed import ShardedBatches, all_reduce_sum, barrier, init_distributed
from asd_lib.train.ema import WeightEma
from asd_lib.train.fallback import replay_schedule, snapshot_state
from asd_lib.train.optim import OPTIMIZERS, SCHEDULERS
from asd_lib.train.precision import autocast, compile_module, set_memory_format
from asd_lib.train.progress import Progress
from asd_lib.train.stages import Stage
from asd_lib.utils.checkpoint import (
    CHECKPOINT,
    PREVIOUS_CHECKPOINT,
    CheckpointError,
    load_safe,
    load_weights,
    point_link,
    save_atomic,
    save_rotated,
)
from asd_lib.utils.device import select_device
from asd_lib.utils.fileio import atomic_write
from asd_lib.utils.log import progress_enabled


def held_out_split(labels: List[int], fraction: float, seed: int):
    """Stratified split of item indices: ``fraction`` of every class (at least one item
    where a class has two or more) is held out for model selection; never the test set."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    valid = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n = int(round(fraction * len(members)))
        if fraction > 0 and len(members) >= 2:
            n = max(n, 1)
        valid.extend(rng.permutation(members)[:n].tolist())
    valid = sorted(valid)
    train = sorted(set(range(len(labels))) - set(valid))
    return train, valid


def correct_count(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Correctly classified items; with patch logits ``[B, P, C]`` each item counts the
    fraction of its patches that are correct."""
    hits = (logits.argmax(-1) == labels.view(-1, *([1] * (logits.dim() - 2)))).float()
    return hits.flatten(1).mean(1).sum() if hits.dim() > 1 else hits.sum()


def _accuracy_text(accuracy: float) -> str:
    """``0.873``, or ``n/a`` for a model without class logits (an autoencoder)."""
    return "n/a" if math.isnan(accuracy) else f"{accuracy:.3f}"


def dumped_rate(train_set: DumpedSet) -> int:
    """The sample rate stage 2 dumped the training set at: what the model is built for."""
    rate = train_set.sample_rate
    if rate is None:
        raise ValueError(f"{train_set.path}/sample_rate: missing, so the rate of the dumped "
                         "clips is unknown; re-run stage 2 (it records the rate)")
    return rate


def training_labels(train_set: DumpedSet, utts: List[str]) -> TrainingLabels:
    """The labels of the clips ``utts`` of a dumped training set, with the label scheme that
    made its ``utt2class`` (the set's ``label_scheme`` file, written by make_labels)."""
    tables = {name: {u: train_set.tables[name][u] for u in utts}
              for name in LABEL_FILES if name in train_set.tables}
    if "utt2class" not in tables:
        raise ValueError(f"{train_set.path}/utt2class: missing; run stage 1 (it labels the "
                         "training set) and stage 2")
    scheme_file = Path(train_set.path) / "label_scheme"
    scheme = scheme_file.read_text().strip() if scheme_file.is_file() else "unrecorded"
    return TrainingLabels(tables, scheme)


class SkipBatches:
    """A batch sampler without its first ``skip`` batches (resuming mid-epoch)."""

    def __init__(self, batches, skip: int):
        self.batches, self.skip = batches, skip

    def __len__(self) -> int:
        return max(0, len(self.batches) - self.skip)

    def __iter__(self):
        for b, batch in enumerate(self.batches):
            if b >= self.skip:
                yield batch


class Interrupted(Exception):
    """SIGTERM arrived; a mid-epoch checkpoint has been written."""


class TrainingSystem(nn.Module):
    """Model, head and the loss terms' own modules in one module, so DDP sees every
    parameter; ``forward`` runs one stage's weighted loss terms on a step."""

    def __init__(self, model: nn.Module, head: Optional[nn.Module], loss_modules: nn.ModuleDict):
        super().__init__()
        self.model = model
        self.head = head
        self.loss_modules = loss_modules

    def forward(self, step: Step, terms):
        forward(self.model, step)
        loss = torch.zeros((), device=step.labels.device)
        logits = None
        for term, objective in terms:
            value, term_logits = objective(step, self.head)
            loss = loss + term.weight * value
            logits = term_logits if term_logits is not None else logits
        return loss, logits


class Trainer:
    """Runs the configured stages in ``exp_dir``, resuming from its checkpoint.

    ``machines`` restricts training to the clips of those machine types (one model per
    type, e.g. the MobileNetV2 classifier of Giri et al. and the DCASE 2020 AE baseline).
    """

    def __init__(self, config: TrainConfig, exp_dir=None, machines=None):
        args = self.args = config
        self.stages = config.training_stages()
        self.exp_dir = Path(exp_dir or args.exp_dir)
        self.ctx = init_distributed(args.ngpu)
        self.device = select_device(args.ngpu, args.num_threads, self.ctx.world_size,
                                    self.ctx.local_rank, self.ctx.enabled)
        self.train_set = DumpedSet(args.train_dir)
        keep = range(len(self.train_set.utts))
        if machines is not None:
            types = self.train_set.column("utt2machine")
            keep = [i for i in keep if types[i] in machines]
        self.utts = [self.train_set.utts[i] for i in keep]
        self.locations = [self.train_set.locations[i] for i in keep]
        self.training_labels = training_labels(self.train_set, self.utts)
        classes = self.training_labels.column("utt2class", self.utts)
        self.class_names = self.training_labels.classes()
        index = {c: i for i, c in enumerate(self.class_names)}
        self.labels = [index[c] for c in classes]
        self.num_samples = self.train_set.clip_length()
        self.sample_rate = dumped_rate(self.train_set)
        torch.manual_seed(args.seed)
        self.model, self.head = build_model(
            args.model, args.model_conf, args.head, args.head_conf,
            self.num_samples, self.sample_rate, len(self.class_names))
        self.texts = None  # attribute texts, for models conditioned on them (System-3)
        if traits(self.model).conditioning == "attribute_text":
            attrs = self.training_labels.tables.get("utt2attr", {})
            self.texts = [describe(m, attrs.get(u, "")) for u, m in zip(
                self.utts, self.training_labels.column("utt2machine", self.utts))]
        self.objectives = [[(term, OBJECTIVES.build(term.name, **term.conf))
                            for term in stage.losses] for stage in self.stages]
        self.loss_modules = nn.ModuleDict({
            f"{s}_{j}": objective for s, terms in enumerate(self.objectives)
            for j, (_, objective) in enumerate(terms) if isinstance(objective, nn.Module)})
        self.system = set_memory_format(
            TrainingSystem(self.model, self.head, self.loss_modules).to(self.device),
            args.channels_last)
        self.training_free = traits(self.model).training_free
        compile_module(self.model, args.compile and not self.training_free)
        trainable = sum(p.numel() for p in self.system.parameters() if p.requires_grad)
        if self.training_free and trainable:
            raise ValueError(f"model {args.model!r} declares itself training-free but has "
                             f"{trainable} trainable parameters")
        self.runner = self.system
        if self.ctx.enabled and not self.training_free:
            self.runner = nn.parallel.DistributedDataParallel(
                self.system, device_ids=[self.device.index] if args.ngpu else None,
                find_unused_parameters=True)
        self.ema = (WeightEma([self.model] + ([self.head] if self.head else []), args.ema_decay)
                    if args.ema_decay > 0 else None)
        self.train_idx, self.valid_idx = held_out_split(self.labels, args.valid_fraction,
                                                        args.split_seed)
        if not self.train_idx:
            raise ValueError(f"{args.train_dir}: no clip is left to train on (valid_fraction "
                             f"{args.valid_fraction} holds out all {len(self.labels)}); lower "
                             "valid_fraction")
        self.history: List[Dict] = []
        self.best_loss = math.inf
        self.writer = None
        self.stop_requested = False
        self.rotate = True  # False while checkpoint.pth is one that failed to load
        self.content: Optional[ContentRecord] = None  # what to record, by check_same_data

    # ------------------------------------------------------------------ set-up files
    def check_same_data(self) -> None:
        """Refuse to resume (or to call finished) an experiment trained on other data: the
        clips and classes of its ``train_labels`` must be this training set's, and so must
        the samples of every clip (:meth:`_check_same_content`)."""
        if not (self.exp_dir / "train_labels" / "utt2class").is_file():
            if (self.exp_dir / "checkpoint.pth").exists():
                raise ValueError(f"{self.exp_dir}: has a checkpoint but no train_labels/; it "
                                 "was not made by this version of stage 3: train a new "
                                 "experiment with another --tag")
            self.content = ContentRecord.of(self.utts, self.locations)
            return
        trained = read_training_labels(self.exp_dir)
        if trained.digest() != self.training_labels.digest():
            before, now = trained.tables["utt2class"], self.training_labels.tables["utt2class"]
            changed = sum(before.get(u) != c for u, c in now.items())
            raise ValueError(
                f"{self.exp_dir} was trained on other data: {len(set(before) - set(now))} of "
                f"its clips are gone, {len(set(now) - set(before))} are new and {changed} have "
                f"another class in {self.args.train_dir} (classes then: "
                f"{len(set(before.values()))}, now: {len(set(now.values()))}); train a new "
                "experiment with another --tag, or restore the data it was trained on")
        self._check_same_content()

    def _check_same_content(self) -> None:
        """Refuse an experiment whose training clips now hold other samples under the same
        names (:mod:`asd_lib.data.content`). The clips are read again only where the files
        holding them changed; the same samples in rewritten files update the record. An
        experiment made before stage 3 kept this record is checked by names and classes
        only (logged): recording the content now could vouch for audio it was not
        trained on."""
        recorded = ContentRecord.read(self.exp_dir / CONTENT_DIR)
        if recorded is None:
            logging.warning("%s: no record of what its training clips hold (made by an "
                            "earlier stage 3); only their names and classes are checked",
                            self.exp_dir)
            return
        files = files_digest(self.locations)
        if files is not None and files == recorded.files:
            return
        now = ContentRecord(dict(zip(self.utts, clip_digests(self.locations))), files)
        changed = [i for i, u in enumerate(self.utts) if recorded.clips.get(u) != now.clips[u]]
        if changed:
            raise ValueError(
                f"{self.exp_dir} was trained on other audio: {len(changed)} of its "
                f"{len(self.utts)} clips in {self.args.train_dir} hold other samples under "
                f"the same names (the first: {self.utts[changed[0]]}, read from "
                f"{self.locations[changed[0]]}); train a new experiment with another --tag, "
                "or restore the data it was trained on")
        logging.info("%s: the files of its training clips were rewritten with the same "
                     "samples; record updated", self.exp_dir)
        self.content = now

    def write_metadata(self) -> None:
        """Clip length, classes, the training labels and the held-out list: what
        inference needs (:mod:`asd_lib.experiment`)."""
        write_model_info(self.exp_dir, {"num_samples": self.num_samples,
                                        "sample_rate": self.sample_rate,
                                        "classes": self.class_names,
                                        "label_scheme": self.training_labels.label_scheme,
                                        "train_digest": self.training_labels.digest()})
        self.training_labels.write(self.exp_dir)
        if self.content is not None:
            self.content.write(self.exp_dir / CONTENT_DIR)
        with atomic_write(self.exp_dir / "held_out.list") as f:
            f.writelines(f"{self.utts[i]}\n" for i in self.valid_idx)
        logging.info("%d classes (%s), %d clips of %d samples at %d Hz: %d for training, %d "
                     "held out", len(self.class_names), self.training_labels.label_scheme,
                     len(self.labels), self.num_samples, self.sample_rate, len(self.train_idx),
                     len(self.valid_idx))

    def _batches(self, indices, stage: Stage, train: bool, generator):
        labels = [self.labels[i] for i in indices]
        name, conf = (stage.sampler, stage.sampler_conf) if train else ("random", {})
        batches = SAMPLERS.build(name, labels=labels, batch_size=stage.batch_size,
                                 generator=generator, **conf)
        return ShardedBatches(batches, self.ctx) if self.ctx.enabled else batches

    # ------------------------------------------------------------------ one epoch
    def _run_epoch(self, s: int, stage: Stage, optimizer, train: bool, global_epoch: int,
                   partial: Optional[dict] = None):
        """Train (or evaluate on the held-out split) for one epoch; ``partial`` is the
        state of an epoch interrupted by SIGTERM, continued from its next batch."""
        indices = self.train_idx if train else self.valid_idx
        if not indices:
            return {"loss": float("nan"), "acc": float("nan")}
        generator = torch.Generator().manual_seed(self.args.seed + global_epoch)
        done = partial["batches_done"] if partial else 0
        dataset = WaveformDataset([self.locations[i] for i in indices],
                                  [self.labels[i] for i in indices])
        loader = make_loader(dataset, num_workers=self.args.num_workers, device=self.device,
                             batch_sampler=SkipBatches(self._batches(indices, stage, train,
                                                                     generator), done))
        augments = [AUGMENTS.build(a["name"], **a.get("conf", {})) for a in stage.augments]
        self.system.train(train)
        # loss sum, correct, clips, clips with class logits (a head-free model has none)
        totals = torch.zeros(4, dtype=torch.float64, device=self.device)
        batches = iter(loader)
        if partial:
            totals += torch.as_tensor(partial["totals"], dtype=torch.float64, device=self.device)
            torch.set_rng_state(partial["rng"])
        bar = tqdm(batches, desc=f"epoch {global_epoch} {'train' if train else 'held-out'}",
                   total=len(loader), disable=not progress_enabled(), leave=False)
        if train:
            self.progress.start_epoch(global_epoch, done + len(loader), done)
        with torch.set_grad_enabled(train):
            for b, (wave, label, item) in enumerate(bar, start=done + 1):
                step = Step(wave.to(self.device, non_blocking=True),
                            label.to(self.device, non_blocking=True))
                if self.texts is not None:
                    step.model_kwargs["attributes"] = [self.texts[indices[j]]
                                                       for j in item.tolist()]
                for augment in augments if train else []:
                    step = augment(step)
                with autocast(self.device, self.args.precision):
                    loss, logits = self.runner(step, self.objectives[s])
                if train:
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    if self.ema is not None:
                        self.ema.update()
                totals[0] += loss.detach() * len(step.labels)
                if logits is not None:
                    totals[1] += correct_count(logits.detach(), step.labels)
                    totals[3] += len(step.labels)
                totals[2] += len(step.labels)
                if train:
                    self.progress.update(b, len(step.labels))
                if train and self._should_stop():
                    raise Interrupted({"batches_done": b, "totals": totals.tolist(),
                                       "rng": torch.get_rng_state()})
        loader.close()
        totals = all_reduce_sum(totals, self.ctx).tolist()
        if train and not totals[2]:
            raise ValueError(
                f"{self.exp_dir}: stage {s} ({stage.name!r}) made no training batch in epoch "
                f"{global_epoch} ({len(indices)} training clips, batch_size {stage.batch_size}, "
                f"sampler {stage.sampler}); lower batch_size or set drop_last: false in "
                "sampler_conf")
        return {"loss": totals[0] / totals[2],
                "acc": totals[1] / totals[3] if totals[3] else float("nan")}

    def _should_stop(self) -> bool:
        """Whether SIGTERM arrived (on any process: all of them stop at the same batch)."""
        if not self.ctx.enabled:
            return self.stop_requested
        flag = torch.tensor([float(self.stop_requested)], device=self.device)
        return bool(all_reduce_sum(flag, self.ctx).item() > 0)

    # ------------------------------------------------------------------ checkpoints
    def _weights(self) -> dict:
        """Model and head weights to snapshot: the moving averages when EMA is on."""
        if self.ema is not None:
            states = self.ema.state_dicts()
            return {"model": states[0], "head": states[1] if self.head else {}}
        return {"model": self.model.state_dict(),
                "head": self.head.state_dict() if self.head else {}}

    def _full_state(self, stage_index, epoch_in_stage, global_epoch, optimizer, scheduler,
                    partial=None) -> dict:
        return {
            "model": self.model.state_dict(),
            "head": self.head.state_dict() if self.head else {},
            "losses": self.loss_modules.state_dict(),
            "ema": self.ema.state_dicts() if self.ema else None,
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "stage_index": stage_index, "epoch_in_stage": epoch_in_stage,
            "global_epoch": global_epoch, "best_loss": self.best_loss,
            "history": self.history, "partial": partial,
        }

    def _save(self, stage_index, epoch_in_stage, global_epoch, optimizer, scheduler, is_best):
        if self.ctx.is_main:
            snapshot = self.exp_dir / "snapshots" / f"epoch{global_epoch}.pth"
            save_atomic(self._weights(), snapshot)
            self._save_checkpoint(self._full_state(stage_index, epoch_in_stage, global_epoch,
                                                   optimizer, scheduler))
            point_link(self.exp_dir / "latest.pth", snapshot)
            if is_best:
                point_link(self.exp_dir / "best.pth", snapshot)
            self._prune_snapshots()
            self._write_history()
        barrier(self.ctx)

    def _save_checkpoint(self, state: dict) -> None:
        """``checkpoint.pth``, the one it replaces kept as ``checkpoint.prev.pth`` unless
        it failed to load when training resumed (then ``checkpoint.prev.pth`` is kept)."""
        if self.rotate:
            save_rotated(state, self.exp_dir / CHECKPOINT, self.exp_dir / PREVIOUS_CHECKPOINT)
        else:
            save_atomic(state, self.exp_dir / CHECKPOINT)
            self.rotate = True

    def _prune_snapshots(self) -> None:
        keep = {(self.exp_dir / name).resolve() for name in ("latest.pth", "best.pth")
                if (self.exp_dir / name).exists()}
        snaps = sorted((self.exp_dir / "snapshots").glob("epoch*.pth"),
                       key=lambda p: int(p.stem[5:]))
        for old in snaps[:-self.args.keep_snapshots] if self.args.keep_snapshots > 0 else []:
            if old.resolve() not in keep:
                old.unlink()

    def _write_history(self) -> None:
        if not self.history:
            return
        with atomic_write(self.exp_dir / "train_history.csv", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(self.history[0]))
            writer.writeheader()
            writer.writerows(self.history)

    def _saved_state(self):
        """``(path, state)`` to resume from: ``checkpoint.pth``, or ``checkpoint.prev.pth``
        where that is unreadable or gone (logged), or else the newest readable snapshot
        where a checkpoint exists but none can be read (:mod:`asd_lib.train.fallback`);
        ``(None, None)`` when neither checkpoint exists. A checkpoint that failed to load
        is never rotated into ``checkpoint.prev.pth`` (:meth:`_save_checkpoint`)."""
        path, previous = self.exp_dir / CHECKPOINT, self.exp_dir / PREVIOUS_CHECKPOINT
        if not path.exists() and not previous.exists():
            return None, None
        reasons = []
        if path.exists():
            try:
                return path, load_safe(path)
            except CheckpointError as err:
                self.rotate = False
                reasons.append(f"{path}: cannot read checkpoint ({err.reason})")
        else:
            reasons.append(f"{path}: missing")
        if previous.exists():
            try:
                state = load_safe(previous)
            except CheckpointError as err:
                reasons.append(f"{previous.name}: cannot read it either ({err.reason})")
            else:
                logging.warning("%s; resuming from %s, the checkpoint it replaced (the epochs "
                                "after it are trained again and their snapshots rewritten)",
                                reasons[0], previous.name)
                return previous, state
        else:
            reasons.append(f"there is no {previous.name} to resume from instead")
        return snapshot_state(self.exp_dir, self.stages, self.ema is not None,
                              self.loss_modules.state_dict(), bool(self.valid_idx),
                              "; ".join(reasons))

    def _check_fresh_start(self) -> None:
        """Refuse to start from epoch 1 where a run that finished epochs (``latest.pth``
        names one) left snapshots but no checkpoint: they would be overwritten."""
        snapshots = sorted((self.exp_dir / "snapshots").glob("epoch*.pth"),
                           key=lambda p: int(p.stem[5:]))
        if snapshots and (self.exp_dir / "latest.pth").is_symlink():
            raise ValueError(
                f"{self.exp_dir}: no {CHECKPOINT} or {PREVIOUS_CHECKPOINT} to resume from, "
                f"but snapshots/ holds {len(snapshots)} snapshot(s) of an earlier run (the "
                f"last {snapshots[-1].name}) that training from epoch 1 would overwrite: "
                f"train with another --tag, or move {self.exp_dir / 'snapshots'} away to "
                "train here again")

    def _resume_point(self):
        """(stage index, epochs done in it, global epochs done, saved state or None)."""
        path, state = self._saved_state()
        if state is None:
            self._check_fresh_start()
            return 0, 0, 0, None
        load_weights(self.model, state["model"], "model", path)
        if self.head is not None:
            load_weights(self.head, state["head"], "head", path)
        load_weights(self.loss_modules, state["losses"], "loss-term", path)
        if self.ema is not None:
            if not state.get("ema"):
                raise ValueError(f"{path}: has no EMA weights but ema_decay is set; the "
                                 "checkpoint was made with another config: retrain")
            self.ema.load_state_dicts(state["ema"])
        self.best_loss = state["best_loss"]
        self.history = list(state["history"])
        where = (f"batch {state['partial']['batches_done']} of epoch {state['global_epoch'] + 1}"
                 if state.get("partial") else f"the end of global epoch {state['global_epoch']}")
        logging.info("resuming from %s: stage %d (%s), at %s", path, state["stage_index"],
                     self.stages[state["stage_index"]].name, where)
        return state["stage_index"], state["epoch_in_stage"], state["global_epoch"], state

    # ------------------------------------------------------------------ main loop
    def run(self) -> None:
        self.check_same_data()
        if self.training_free:
            self._record_training_free()
            return
        stage_index, done_in_stage, global_epoch, state = self._resume_point()
        if self.ctx.is_main:
            self.exp_dir.mkdir(parents=True, exist_ok=True)
            self.write_metadata()
        barrier(self.ctx)
        if stage_index == len(self.stages) - 1 and done_in_stage >= self.stages[-1].epochs:
            logging.info("training already complete (%d epochs); nothing to do", global_epoch)
            return
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(self.exp_dir / "tensorboard")) if self.ctx.is_main else None
        self.progress = Progress(sum(stage.epochs for stage in self.stages),
                                 enabled=self.ctx.is_main and not progress_enabled())
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            for s in range(stage_index, len(self.stages)):
                stage = self.stages[s]
                start = done_in_stage if s == stage_index else 0
                if start >= stage.epochs:
                    continue
                global_epoch = self._run_stage(s, stage, start, global_epoch,
                                               state if s == stage_index else None)
        finally:
            signal.signal(signal.SIGTERM, previous)
            if self.writer is not None:
                self.writer.close()
        logging.info("training finished after %d epochs; best held-out loss %.4f",
                     global_epoch, self.best_loss)

    def _record_training_free(self) -> None:
        """The experiment of a training-free model: no optimiser and no epoch; ``best`` and
        ``latest`` name an ``epoch0`` snapshot that marks it complete and holds no weights
        (inference rebuilds the model from the config)."""
        if self.ctx.is_main:
            self.exp_dir.mkdir(parents=True, exist_ok=True)
            self.write_metadata()
            snapshot = self.exp_dir / "snapshots" / "epoch0.pth"
            save_atomic({"model": {}, "head": {}, "training_free": True}, snapshot)
            for name in ("latest.pth", "best.pth"):
                point_link(self.exp_dir / name, snapshot)
        barrier(self.ctx)
        logging.info("training-free model %s: nothing to train; the experiment is recorded "
                     "(config, training labels, held-out split)", self.args.model)

    def _on_sigterm(self, signum, frame) -> None:
        logging.warning("SIGTERM: checkpointing after the current batch, then exiting")
        self.stop_requested = True

    def _run_stage(self, s: int, stage: Stage, start: int, global_epoch: int,
                   state: Optional[dict]) -> int:
        params = [p for module in (self.model, self.head) if module is not None
                  for p in module.parameters()]
        for _, objective in self.objectives[s]:
            if isinstance(objective, nn.Module):
                params += list(objective.parameters())
        optimizer = OPTIMIZERS.build(stage.optim, params=params, **stage.optim_conf)
        scheduler = SCHEDULERS.build(stage.scheduler, optimizer=optimizer, epochs=stage.epochs,
                                     **stage.scheduler_conf)
        partial = state.get("partial") if state is not None else None
        if start == 0 and not partial:
            # "best" is chosen within the last stage reached: an earlier stage's criterion
            # (e.g. CLP-SCF's SupCon) is not comparable with this one's.
            self.best_loss = math.inf
        if state is not None and (start > 0 or partial):
            if state["optimizer"] is None:  # resumed from a snapshot: weights only
                replay_schedule(scheduler, start)
            else:
                optimizer.load_state_dict(state["optimizer"])
                scheduler.load_state_dict(state["scheduler"])
        logging.info("stage %d/%d %r: epochs %d-%d, batch %d (%s sampler), %s lr %g, "
                     "%s schedule", s + 1, len(self.stages), stage.name, start + 1,
                     stage.epochs, stage.batch_size, stage.sampler, stage.optim,
                     optimizer.param_groups[0]["lr"], stage.scheduler)
        for epoch in range(start, stage.epochs):
            global_epoch += 1
            torch.manual_seed(self.args.seed + global_epoch)
            tic = time.time()
            lr = optimizer.param_groups[0]["lr"]
            try:
                train_stats = self._run_epoch(s, stage, optimizer, True, global_epoch, partial)
            except Interrupted as stop:
                if self.ctx.is_main:
                    self._save_checkpoint(self._full_state(s, epoch, global_epoch - 1,
                                                           optimizer, scheduler, stop.args[0]))
                barrier(self.ctx)
                logging.warning("checkpoint written at batch %d of epoch %d; exiting (143)",
                                stop.args[0]["batches_done"], global_epoch)
                raise SystemExit(143) from None
            partial = None
            if not math.isfinite(train_stats["loss"]):
                raise ValueError(
                    f"{self.exp_dir}: the training loss of epoch {global_epoch} is "
                    f"{train_stats['loss']}; nothing of this epoch is saved (the checkpoint of "
                    f"epoch {global_epoch - 1} is kept). Lower the learning rate or check the "
                    "input (silent or clipped clips), then re-run stage 3")
            if self.ema is not None:
                with self.ema.swapped_in():
                    valid_stats = self._run_epoch(s, stage, None, False, global_epoch)
            else:
                valid_stats = self._run_epoch(s, stage, None, False, global_epoch)
            scheduler.step()
            criterion = valid_stats["loss"] if self.valid_idx else train_stats["loss"]
            is_best = criterion < self.best_loss
            if is_best:
                self.best_loss = criterion
            record = {"epoch": global_epoch, "stage": stage.name, "lr": lr,
                      "train_loss": train_stats["loss"], "train_acc": train_stats["acc"],
                      "valid_loss": valid_stats["loss"], "valid_acc": valid_stats["acc"],
                      "seconds": round(time.time() - tic, 2)}
            self.history.append(record)
            if self.writer is not None:
                for key in ("lr", "train_loss", "train_acc", "valid_loss", "valid_acc"):
                    self.writer.add_scalar(key, record[key], global_epoch)
            self._save(s, epoch + 1, global_epoch, optimizer, scheduler, is_best)
            logging.info(
                "epoch %d (%s %d/%d): train loss %.4f acc %s | held-out loss %.4f acc %s | "
                "lr %.2e | %.1fs%s", global_epoch, stage.name, epoch + 1, stage.epochs,
                train_stats["loss"], _accuracy_text(train_stats["acc"]), valid_stats["loss"],
                _accuracy_text(valid_stats["acc"]), lr, record["seconds"],
                " (best)" if is_best else "")
        return global_epoch
