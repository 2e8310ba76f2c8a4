"""``python -m tierci.cli``: the ``tierci`` command."""

import sys

from tierci.cli import main

if __name__ == "__main__":  # importing it (import verification walks every module) runs nothing
    sys.exit(main())
