"""Model families: the protocol every family implements (``protocol``), the registry that finds a
scenario's family (``registry``), and the tables a chunk of trials produces (``chunks``)."""
