"""``python -m hotline`` runs the CLI."""

from hotline.cli import app

app(prog_name="hotline")
