"""``python -m czqa.cli``: the same as the ``czqa`` command."""

import sys

from czqa.cli import main

sys.exit(main())
