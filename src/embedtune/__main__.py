"""``python -m embedtune`` runs the CLI."""

from embedtune.cli import main

main()
