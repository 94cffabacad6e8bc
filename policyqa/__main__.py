"""`python -m policyqa` runs the command line."""

import sys

from policyqa.cli import main

sys.exit(main())
