"""The product's version: the one place it is written (pyproject.toml reads it from here).

A constant rather than ``importlib.metadata``, whose import and lookup cost the app's start-up ~10 ms.
"""

VERSION = "0.1.0"
