"""`python -m tinybert` is the `tinybert` command."""

from .cli import main

main(prog_name="tinybert")
