"""Command line: `python -m rerank_lib <command>`.

Commands register themselves in COMMANDS; each is a module with
`add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("rerank_lib.demo", "the main job: base BM25, the online re-ranker and the oracle side by side in the shop"),
    "bench-shop": ("rerank_lib.shop_benchmark", "simulated shop: sessions/s at K=50 and K=1000 on one core, 1M-catalog memory"),
    "bench": ("rerank_lib.benchmarks", "benchmarks against the field's anchors: bench quality | speed | report (see BENCHMARKS.md)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rerank_lib", description="rerank-lab command line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
