"""`python -m selectools`: the same as the `selectools` command."""

from selectools.cli import main

main()
