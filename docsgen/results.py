"""The results pages: one per ``bench/results/*.json``, each with the command that wrote it, the
machine and its load as the JSON records them, and its figures; an index with the headline
figures. Nothing here holds a figure: every number is read from the JSON at build time."""

from __future__ import annotations

import json
from pathlib import Path

from docsgen.headline import headline_rows
from docsgen.markdown import code, table
from docsgen.results_figures import FIGURES, generic
from docsgen.sources import RESULTS

GENERATED = "<!-- generated from bench/results/*.json by docsgen; do not edit -->\n"
# The command that wrote each file, where the JSON does not record its own.
_SIMULATE = "python -m search.simulate --table bench/tables/tiny-random.jsonl.gz --seeds 20"
COMMANDS = {
    "live_curves": "python bench/live_curves.py",
    "live_lag": "python bench/live_lag.py",
    "lockin_replays": "python bench/lockin_replays.py --seeds 40 "
    "--json bench/results/lockin_replays.json",
    "lockin_replays_seeds": "python bench/lockin_replays.py --seeds 40 "
    "--table bench/tables/tiny-seeds.jsonl.gz --only 'rank=eval,r=3,startup=16,design;"
    "rank=eval,r=3,startup=16,design,explore=3;random-moasha;random;tpe' "
    "--json bench/results/lockin_replays_seeds.json",
    "simulate_seeds_40": "python -m search.simulate --table bench/tables/tiny-seeds.jsonl.gz "
    "--seeds 20 --workers 2 --budget 40 --noise residual --strategies 'default;random;tpe;trainer' "
    "--json bench/results/simulate_seeds_40.json",
    "simulate_seeds_300": "python -m search.simulate --table bench/tables/tiny-seeds.jsonl.gz "
    "--seeds 20 --workers 4 --budget 300 --processes 2 --noise residual "
    "--strategies 'default;random;tpe;trainer' --json bench/results/simulate_seeds_300.json "
    "--plot bench/results/simulate_seeds_300.png",
    "simulate_seeds_pruners_300": "python -m search.simulate --table "
    "bench/tables/tiny-seeds.jsonl.gz --seeds 20 --workers 4 --budget 300 --processes 2 "
    "--noise residual --strategies 'default;default:eta=2;default:eta=4;default:r=6;random' "
    "--json bench/results/simulate_seeds_pruners_300.json",
    "simulate_half_seeds_40": "python -m search.simulate --table "
    "bench/tables/tiny-half-seeds.jsonl.gz --seeds 20 --workers 2 --budget 40 --noise residual "
    "--strategies 'default;random;tpe;trainer' --json bench/results/simulate_half_seeds_40.json",
    "real_searches": "python bench/real_searches.py --strategy default --seeds 1-10; "
    "python bench/real_searches.py --strategy explore-0 --seeds 1-10 -- --explore 0; "
    "python bench/real_searches.py --strategy startup-random --seeds 1-10 -- --startup random "
    "--explore 0; python bench/real_searches.py --strategy random --seeds 1-5 -- --sampler random "
    "--pruner none; python bench/real_searches.py --strategy trainer --seeds 1-5 --runner trainer",
    "fidelity": "python -m search.simulate.fidelity --table bench/tables/tiny-seeds.jsonl.gz "
    "--real bench/results/real_searches.json --seeds 40 --processes 2 "
    "--as 'explore-0=default:explore=0;startup-random=default:design=0,explore=0' --learn-real "
    "--noise residual "
    "--json bench/results/fidelity.json --plot bench/results/fidelity.png",
    "overhead_per_trial": "python bench/overhead.py per-trial",
    "overhead_service": "python bench/overhead.py service",
    "s3_artifacts": "python bench/s3_artifacts.py --trials 32 --workers 4",
    "scaling": "python bench/scaling.py",
    "throughput": "python bench/throughput.py",
    "throughput_threads1": "python bench/throughput.py --threads 1 "
    "--out bench/results/throughput_threads1.json",
    "trial_costs": "python bench/trial_costs.py",
    "simulate_strategies": f"{_SIMULATE} --budget 100 --workers 4 --strategies "
    "'default:epoch=4;random;tpe;random-moasha;nsga2-moasha;trainer;default' "
    "--json bench/results/simulate_strategies.json --plot bench/results/simulate_strategies.png",
    "simulate_defaults": f"{_SIMULATE} --budget 100 --workers 4 --strategies "
    "'default:epoch=4;default;default:eta=2;default:eta=4;default:r=2;default:run=9' "
    "--json bench/results/simulate_defaults.json --plot bench/results/simulate_defaults.png",
    "simulate_300": f"{_SIMULATE} --budget 300 --workers 4 --processes 2 --strategies "
    "'default:epoch=4;random;tpe;random-moasha;nsga2-moasha;trainer;default;default:eta=2;"
    "default:eta=4;default:r=2;default:r=3;random-moasha:run=12;nsga2-moasha:run=12' "
    "--json bench/results/simulate_300.json --plot bench/results/simulate_300.png",
    "simulate_random_3000": f"{_SIMULATE} --budget 3000 --workers 4 --processes 2 "
    "--strategies random --json bench/results/simulate_random_3000.json",
    "simulate_default_12228s": f"{_SIMULATE} --budget 12228s --workers 4 --processes 2 "
    "--strategies 'default;default:r=3' --json bench/results/simulate_default_12228s.json",
    "simulate_min_resource_100": f"{_SIMULATE} --budget 100 --workers 4 --processes 2 "
    "--strategies 'default;default:r=3;default:r=2' "
    "--json bench/results/simulate_min_resource_100.json",
}


def result_files() -> list[Path]:
    return sorted(RESULTS.glob("*.json"))


def page_path(stem: str) -> str:
    return f"results/{stem}.md"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def command_of(stem: str, data: dict) -> str | None:
    recorded = data.get("command") or (data.get("simulation") or {}).get("command")
    return COMMANDS.get(stem) or recorded


def title(stem: str) -> str:
    return FIGURES.get(stem, (stem.replace("_", " ").capitalize(),))[0]


def wrapped(command: str, width: int = 88) -> str:
    """A long command as shell lines continued with a backslash, one break before each flag."""
    if len(command) <= width:
        return command
    lines, line = [], ""
    for part in command.replace(" --", "\n--").split("\n"):
        if line and len(line) + len(part) + 1 > width:
            lines.append(line)
            line = "    " + part
        else:
            line = f"{line} {part}" if line else part
    return " \\\n".join([*lines, line])


def result_page(path: Path) -> str:
    data = load(path)
    stem = path.stem
    render = FIGURES.get(stem, (None, generic))[1]
    text = [GENERATED, f"# {title(stem)}\n\n", _provenance(stem, data), "\n"]
    text.append(render(data))
    png = path.with_suffix(".png")
    if png.exists():
        text.append(f"\n![The plot this command wrote]({png.name})\n")
    return "".join(text)


def _provenance(stem: str, data: dict) -> str:
    command = command_of(stem, data)
    lines = [code(wrapped(command), "bash") if command else "The JSON records no command.\n"]
    recorded = data.get("command")
    if recorded and recorded != command:
        lines.append(f"\nWhat it runs: `{recorded}`.\n")
    lines.append(f"\nThe numbers: `bench/results/{stem}.json`. {machine_line(data)}\n")
    return "".join(lines)


def machine_line(data: dict) -> str:
    """The machine and its load as the JSON records them (simulated seconds need neither)."""
    machine = data.get("machine")
    runs = [s["machine"] for s in data.get("searches") or [] if isinstance(s.get("machine"), dict)]
    if not machine and runs:  # one record per search: the machine, and each search's load below
        machine = {k: v for k, v in runs[0].items() if not k.startswith("load_average")}
    if not machine:
        replay = data.get("simulation") or data.get("about")
        if replay is not None:
            took = replay.get("wall_seconds")
            return "Figures in simulated seconds: they do not depend on the machine or its load" + (
                f" (the replay itself took {took} s of wall time)." if took else "."
            )
        return "The JSON records no machine."
    versions = machine.get("versions") or {}
    parts = [f"{machine.get('cpu_count', '?')} CPU cores ({machine.get('processor', '?')})"]
    if "torch_threads" in machine:
        parts.append(f"{machine['torch_threads']} torch threads")
    if versions:
        parts.append(", ".join(f"{k} {versions[k]}" for k in ("torch", "optuna") if k in versions))
    start, end = machine.get("load_average_start"), machine.get("load_average_end")
    if start and end:
        parts.append(f"load average {start[0]} at the start, {end[0]} at the end")
    return "Machine: " + "; ".join(parts) + "."


def index_page() -> str:
    files = result_files()
    text = [
        GENERATED,
        "# Results\n\nEvery figure below is read from `bench/results/*.json` when the site is "
        "built; each page names the command that wrote its file and the machine and load it "
        "ran under. Benchmarks print ratios measured side by side in one run.\n\n",
        "## Headline figures\n\n",
        headline_table(files, link=lambda stem: f"{stem}.md"),
        "\n## Every result\n\n",
    ]
    for path in files:
        text.append(f"- [{title(path.stem)}]({path.stem}.md): `{path.name}`\n")
    text.append("\nFigures from tests and runs, not benchmarks: [reliability](reliability.md).\n")
    return "".join(text)


def headline_table(files: list[Path], link) -> str:
    available = {path.stem: load(path) for path in files}
    rows = [
        [figure, value, f"[{stem}]({link(stem)})"]
        for stem, figure, value in headline_rows(available)
    ]
    return table(["figure", "measured", "source"], rows)
