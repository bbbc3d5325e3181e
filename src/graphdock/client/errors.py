"""Public home of the error classes (`from graphdock.client.errors import NotFoundError`)."""

from ._errors import *  # noqa: F403
from ._errors import __all__  # noqa: F401
