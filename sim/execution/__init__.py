"""Execution: running a scenario's trials in chunks on an executor, checkpointed into a run folder."""
