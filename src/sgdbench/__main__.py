"""``python -m sgdbench``: the same as the ``sgdbench`` command."""

import sys

from .cli import main

sys.exit(main())
