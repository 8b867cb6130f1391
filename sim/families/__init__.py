"""Model families: the tables a chunk of trials produces (``chunks``)."""
