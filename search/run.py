"""``python -m search.run``: a hyperparameter search for relation extraction, start to finish.

Reads and checks everything first (flags, data, search space, storage, an existing study's
objectives) so that bad input writes nothing, creates the study once, then runs one worker in
this process or one worker process per device, with a progress bar over the whole study, and
ends by saying where to look.
"""

from __future__ import annotations

import logging

from common._cli import NOTICE, run_main
from objectives.data._inputs import describe_labels
from search._flags import build_parser
from search._launch import open_search, run_and_sum_up
from search._study import counts
from search._target import quota_for
from search._watch import watch_line
from storage._reserve import drop_reserve, keep_reserve
from storage._urls import file_storage_text

log = logging.getLogger("search.run")  # its name also when run as __main__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config, study, inputs = open_search(args)
    where, plan = config.deployment, config.plan
    finished, _, _ = counts(study)
    shown = file_storage_text(where.storage)  # a file's absolute path: which file, wherever run
    if args.create_only:
        log.log(NOTICE, describe_labels(inputs.data, args.labels))
        print(f"study {where.study} ready in {shown} ({finished} finished)")
        return 0
    quota = quota_for(finished, plan.trials, args.total)
    trials = quota.to_run
    if trials == 0:
        print(f"study {where.study} already has {finished} finished trials (--total {args.total})")
        return 0
    workers = min(where.workers, trials)  # a worker beyond the trials asked for would only wait
    log.log(
        NOTICE,
        "study %s in %s: %d finished trials, running %d more on %d worker(s)",
        *(where.study, shown, finished, trials, workers),
    )
    log.log(NOTICE, watch_line(where.storage, where.artifacts))  # also in the summary
    log.log(NOTICE, describe_labels(inputs.data, args.labels))  # every input checked by now
    keep_reserve(where.storage)  # room to fail the trials a full disk stops
    try:
        return run_and_sum_up(config, study, inputs, quota, workers, args.quiet)
    finally:
        drop_reserve(where.storage)


if __name__ == "__main__":
    run_main(main)
