import sys

from genomedl.cli import main

sys.exit(main())
