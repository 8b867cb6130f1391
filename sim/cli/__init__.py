"""The command line: ``python run_experiment.py [COMMAND] ...`` (also installed as ``advocacy-sim``).

Commands (``--help`` lists them; ``COMMAND --help`` gives each one's options):

* ``run FILE``: run a scenario, or an experiment definition (the default command:
  ``python run_experiment.py scenarios/quickstart.yaml`` is ``run scenarios/quickstart.yaml``);
* ``reproduce [DEFINITION ...]``: reproduce published figures (every definition in
  ``experiments/`` by default) and print one table;
* ``calibrate DEFINITION``: fit a calibration's free parameters to its targets;
* ``optimize SCENARIO``: search a campaign scenario's ``optimize:`` space for the best plan and
  run it beside the grid's strategies.

Exit status: 0 on success, 2 when the input or the arguments are invalid (nothing is run and
nothing is written; one ``file:line: key: message`` line per problem), 1 on any other failure
(for reproductions: a failed verification check or a crashed experiment; validation misses and
claims' verdicts are reported, never failures).
"""

from __future__ import annotations

import argparse
import sys

from sim.cli import calibrate, optimize, reproduce, run

#: The commands, in the order ``--help`` lists them. A command is a module with ``NAME``, ``HELP``,
#: ``add_arguments(parser)`` and ``main(args) -> int``; a new one is one more module of this
#: package and one more entry here.
COMMANDS = (run, reproduce, calibrate, optimize)

#: The command of a command line that names none (``run_experiment.py FILE``).
DEFAULT = run


def parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per command (kept separate so docs and tests can inspect it)."""
    p = argparse.ArgumentParser(
        prog="run_experiment.py",
        description="Simulate advocacy campaigns: run a scenario, reproduce published figures, calibrate, "
                    "optimize a campaign's plan. "
                    f"Without a command, '{DEFAULT.NAME}' is meant: run_experiment.py FILE runs FILE.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for command in COMMANDS:
        command.add_arguments(sub.add_parser(command.NAME, help=command.HELP, description=command.HELP))
    return p


def _with_command(argv: list[str]) -> list[str]:
    """``argv`` with the default command put first when it names no command (argparse has no
    default subcommand; ``-h`` alone still asks for the commands)."""
    names = {c.NAME for c in COMMANDS}
    if argv and (argv[0] in names or argv[0] in ("-h", "--help")):
        return argv
    return [DEFAULT.NAME, *argv]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(_with_command(argv))
    args.argv = argv  # the command line as given, for manifests
    command = next(c for c in COMMANDS if c.NAME == args.command)
    return command.main(args)


__all__ = ["COMMANDS", "main", "parser"]
