"""``python -m fakturka``: the same as the ``fakturka`` command."""

import sys

from fakturka.launcher import main

sys.exit(main())
