"""Public home of the result types (`from graphdock.client.schema import Thread`)."""

from ._types import *  # noqa: F403
