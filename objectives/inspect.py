"""`python -m objectives.inspect`: the command line of `objectives.describe`."""

from common.cli import run_main
from objectives.describe import main

if __name__ == "__main__":
    run_main(main)
