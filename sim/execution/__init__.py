"""Execution: a scenario's trials run in chunks on an executor, checkpointed into a run folder
(``runner.execute``), and variants of one scenario on common random numbers (``evaluate``)."""
