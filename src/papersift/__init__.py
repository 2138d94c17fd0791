"""papersift: a short, personalised daily digest of new arXiv papers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("papersift")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

CONFIG_FILENAME = "papersift.toml"  # here, so the CLI names it without loading pydantic
DEFAULT_PROFILE = "default"  # the one reader of a configuration without [profiles]

__all__ = ["CONFIG_FILENAME", "DEFAULT_PROFILE", "__version__"]
