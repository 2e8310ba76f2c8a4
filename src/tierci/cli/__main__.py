"""``python -m tierci.cli``: the ``tierci`` command."""

import sys

from tierci.cli import main

sys.exit(main())
