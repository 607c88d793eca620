"""What every command shares: user errors and the CLI frame, files, versions."""
