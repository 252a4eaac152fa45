"""The command line: typer/rich live only here."""
