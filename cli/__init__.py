"""The typer CLI, installed as graphassoc.cli. Each command parses its options and calls one library function."""
