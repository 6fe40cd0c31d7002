"""Files Fakturka ships (translation catalogs); installed as ``fakturka.data`` and read with importlib.resources."""
