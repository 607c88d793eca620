"""`python -m objectives.sample`: the command line of `objectives.data.sample`."""

from common.cli import run_main
from objectives.data.sample import main

if __name__ == "__main__":
    run_main(main)
