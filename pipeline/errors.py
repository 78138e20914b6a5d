"""The one base class of errors that no retry can heal.

A wrong setting, an output directory that cannot be written, or an explicitly named model that cannot
load stay wrong however often a task is retried: Airflow tasks turn a `ConfigurationError` into an
immediate failure, and the command line into one `error:` line and exit code 1.
"""


class ConfigurationError(Exception):
    """The run as configured cannot proceed; the message is one line that says what to change."""
