"""`python -m flashsim`: the same command line as the `flashsim` script."""

import sys

from flashsim.main import main

sys.exit(main())
