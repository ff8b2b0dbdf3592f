import sys

from ssa.cli import main

sys.exit(main())
