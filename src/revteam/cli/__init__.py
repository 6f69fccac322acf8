"""The ``revteam`` command line: one module per area; commands parse, call a service, print."""
