"""What one launcher adds to a study: ``--trials N`` finished trials of its own, or, with
``--total N``, the study's N finished trials in all.

Each ``search.run`` is a launch with an id of its own; a worker writes that id on every trial it
starts (:data:`LAUNCH_ATTR`), under the study's lock, and starts one only while its launch has
fewer than N trials finished or running. So every launcher adds exactly its N, however many run
together and whenever each starts: 8 launchers of ``--trials 3`` add 24 finished trials. A dead
worker's retry (a WAITING copy) belongs to whichever launch's worker claims it.

A total is a quota without a launch id: every trial of the study counts, so the launchers that
name the same total (Kubernetes pods, a replaced pod included) stop together at it.
"""

from __future__ import annotations

import contextlib
import uuid
import warnings
from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState

from search._study import FINISHED
from storage._locks import storage_lock
from storage._optuna import set_trial_system_attr, storage_of, trial_id

# the launch that started a trial (a system attribute: ``optuna trials`` does not print it)
LAUNCH_ATTR = "re_search:launch"


@dataclass(frozen=True)
class Quota:
    """``trials`` finished trials for the launch ``launch`` (a fresh id unless given); with
    ``launch`` None, ``trials`` finished trials in the study, of which ``before`` were there when
    the launcher started."""

    trials: int
    launch: str | None = field(default_factory=lambda: uuid.uuid4().hex[:16])
    before: int = 0

    @property
    def to_run(self) -> int:
        """The trials this launcher runs (at most: other launchers may take some of a total)."""
        return max(self.trials - self.before, 0)

    def done(self, study: optuna.Study) -> int:
        """This launcher's progress: its launch's finished trials, or those the study gained."""
        return self.counts(study)[0] - self.before

    def counts(self, study: optuna.Study) -> tuple[int, int]:
        """(finished, running) trials of this launch (of the study, for a total)."""
        mine = [
            t
            for t in study.get_trials(deepcopy=False)
            if self.launch is None or t.system_attrs.get(LAUNCH_ATTR) == self.launch
        ]
        finished = sum(t.state in FINISHED for t in mine)
        return finished, sum(t.state == TrialState.RUNNING for t in mine)

    def to_text(self) -> str:
        """``N:LAUNCH``, how a launcher hands its quota to its worker processes."""
        return f"{self.trials}:{self.launch or ''}"

    @classmethod
    def from_text(cls, text: str) -> Quota:
        trials, _, launch = text.partition(":")
        return cls(int(trials), launch or None)


class NoFreeSlot(Exception):
    """The trials a launch asked for are all finished or running: this worker starts none."""


class SetUpFailed(Exception):
    """A write after the trial's creation failed (a full disk): the trial ``trial_id`` exists,
    RUNNING, and this worker must fail it (``error`` says why)."""

    def __init__(self, trial_id: int, error: Exception) -> None:
        super().__init__(str(error))
        self.trial_id = trial_id
        self.error = error


def ask_in_slot(study: optuna.Study, quota: Quota) -> optuna.Trial:
    """Start a trial for ``quota``'s launch only while it has fewer than ``quota.trials`` trials
    finished or running, counting, creating (or taking a waiting trial) and marking it under the
    study's storage lock. So a launch's W workers finish exactly its N trials, and no two take the
    same waiting trial. Raises :class:`NoFreeSlot` before creating a trial, :class:`SetUpFailed`
    after."""
    with storage_lock(storage_of(study), f"study:{study.study_name}"):
        finished, running = quota.counts(study)
        if finished + running >= quota.trials:
            raise NoFreeSlot(f"{finished} finished and {running} running of {quota.trials}")
        before = _running_ids(study)
        try:
            with warnings.catch_warnings():  # the worker runs the heartbeat (search.worker)
                warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
                trial = study.ask()
            if quota.launch is not None:
                set_trial_system_attr(trial, LAUNCH_ATTR, quota.launch)
            return trial
        except Exception as exc:
            # under the lock no other worker starts a trial: a new RUNNING one is this one
            created = None
            with contextlib.suppress(Exception):
                created = min(_running_ids(study) - before, default=None)
            if created is None:
                raise
            raise SetUpFailed(created, exc) from exc


def _running_ids(study: optuna.Study) -> set[int]:
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return {trial_id(t) for t in running}
