"""The ``fakturka`` command's own package: the launcher that picks the command line or the terminal app,
and the bundled data (``fakturka.data``: translation catalogs), which the wheel installs here."""
