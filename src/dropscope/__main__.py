"""`python -m dropscope` runs the CLI."""

from dropscope.cli.app import main

main()
