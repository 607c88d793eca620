"""What a worker reads before its first trial, in one place."""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from objectives.data._inputs import TrialData, load_trial_data
from search._config import SearchConfig
from search._space import Space, load_space
from storage._opening import open_storage


@dataclass(frozen=True)
class Inputs:
    """What a worker reads before its first trial: the opened storage, the space and the data.
    A launcher that runs the worker in its own process has them already and passes them on."""

    storage: optuna.storages.BaseStorage
    space: Space
    data: TrialData

    @classmethod
    def load(cls, config: SearchConfig) -> Inputs:
        return cls(
            storage=open_storage(
                config.deployment.storage, heartbeat_interval=config.deployment.heartbeat_interval
            ),
            space=load_space(config.plan.space, config.plan.model),
            data=load_trial_data(
                config.files.train,
                config.files.dev,
                config.files.test,
                config.files.labels,
                config.files.no_relation,
            ),
        )
