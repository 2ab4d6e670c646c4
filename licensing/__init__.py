"""The application: commands and queries, catalogue, signing, configuration and the CLI."""
