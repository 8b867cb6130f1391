"""Report: a run's figures, ``report.html``, console tables, and the writer of a results folder."""
