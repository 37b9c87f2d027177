"""``python -m bluegreen``: the same as the ``bluegreen`` command."""

import sys

from bluegreen.cli import main

sys.exit(main())
