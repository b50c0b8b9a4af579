"""User-facing errors: one line that names the file, record or key and says what to do."""


class GenomedlError(Exception):
    """An error caused by input or configuration; the CLI prints it as one line (no traceback)."""
