import sys

from archid.cli import main

sys.exit(main())
