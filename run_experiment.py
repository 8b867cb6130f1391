#!/usr/bin/env python
"""Run a scenario from the command line: ``python run_experiment.py scenarios/quickstart.yaml``.

A thin wrapper over :func:`sim.cli.main`; see ``--help``.
"""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
