"""`python -m lab.cli …` is `kafka-lab …`."""

import sys

from lab.cli.app import main

if __name__ == "__main__":  # importing this module (as the import check does) must not run the CLI
    sys.exit(main())
