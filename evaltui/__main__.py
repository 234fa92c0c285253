"""`python -m evaltui` runs the command line."""

from evaltui.cli import main

raise SystemExit(main())
