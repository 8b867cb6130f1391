"""Input: strict YAML, the scenario schema composed from each package's blocks, sweeps' points,
fitted parameter files; every problem reported as ``file:line: key.path: message``."""
