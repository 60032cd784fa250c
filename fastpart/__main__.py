"""``python -m fastpart``: the same command line as ``fastpart``."""

import sys

from .cli import main

sys.exit(main())
