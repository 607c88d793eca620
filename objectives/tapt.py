"""`python -m objectives.tapt`: the command line of `objectives.models.tapt`."""

from common.cli import run_main
from objectives.models.tapt import main

if __name__ == "__main__":
    run_main(main)
