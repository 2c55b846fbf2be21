"""``python -m nst_desktop``: the same entry point as the ``nst-desktop`` command."""

import sys

from .cli import main

sys.exit(main())
