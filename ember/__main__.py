"""``python -m ember``: see ``ember._cli``."""

import sys

from ember._cli import main

if __name__ == "__main__":
    sys.exit(main())
