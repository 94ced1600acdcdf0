"""Progress lines in ``train.log`` during a training epoch.

``train.log`` otherwise gets one line per epoch, and a tqdm bar only on a terminal, so a
long epoch on a CPU would pass in silence. Every :data:`LOG_INTERVAL_SEC` seconds of a
training epoch, :class:`Progress` logs where the epoch is, its rate and how long the epoch
and the whole run have left::

    epoch 3/300, batch 120/812: 45.2 clips/s, epoch left 4m12s, run left ~20h31m

The epoch's time left is its remaining batches at the epoch's batch rate so far. The run's
time left adds, for each later epoch of every stage, the wall time of the last whole epoch
(training, held-out pass and checkpoint), or this epoch's projected training time before
one has finished; stages with other batch sizes or clip counts make it an estimate.

It reads a clock and counts batches and clips the caller already has on the host: it
never waits for the device.
"""
import logging
import time
from typing import Callable, Optional

logger = logging.getLogger(__name__)

LOG_INTERVAL_SEC = 30.0


def duration_text(seconds: float) -> str:
    """``3h05m``, ``4m12s`` or ``9s``."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """Timed progress lines of the training epochs of a run of ``total_epochs`` epochs
    (all stages); ``enabled`` False makes it silent (a tqdm bar shows progress, or this is
    not the main process)."""

    def __init__(self, total_epochs: int, interval: float = LOG_INTERVAL_SEC,
                 clock: Callable[[], float] = time.monotonic, enabled: bool = True):
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.total_epochs, self.interval, self.clock = total_epochs, interval, clock
        self.enabled = enabled
        self.epoch = 0
        self.epoch_start: Optional[float] = None
        self.last_epoch_seconds: Optional[float] = None

    def start_epoch(self, epoch: int, batches: int, done: int = 0) -> None:
        """Global epoch ``epoch`` starts (or resumes after ``done`` of its ``batches``)."""
        now = self.clock()
        if self.epoch_start is not None and epoch == self.epoch + 1:
            self.last_epoch_seconds = now - self.epoch_start
        self.epoch, self.batches, self.first = epoch, batches, done
        self.epoch_start = self.last_line = now
        self.clips = 0

    def update(self, batch: int, clips: int) -> None:
        """Batch ``batch`` (1-based, of all the epoch's batches) of ``clips`` clips is done;
        log a line when ``interval`` seconds have passed since the last one."""
        self.clips += clips
        now = self.clock()
        if not self.enabled or now - self.last_line < self.interval:
            return
        self.last_line = now
        elapsed = now - self.epoch_start
        per_batch = elapsed / (batch - self.first)
        epoch_left = per_batch * (self.batches - batch)
        per_epoch = self.last_epoch_seconds
        if per_epoch is None:
            per_epoch = per_batch * self.batches
        run_left = epoch_left + (self.total_epochs - self.epoch) * per_epoch
        logger.info("epoch %d/%d, batch %d/%d: %.1f clips/s, epoch left %s, run left ~%s",
                    self.epoch, self.total_epochs, batch, self.batches, self.clips / elapsed,
                    duration_text(epoch_left), duration_text(run_left))
