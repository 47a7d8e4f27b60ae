"""tmplstudio: compliance checks for debt-collection message templates.

The Python API (docs/api.md): ``from tmplstudio import check, check_message, Project``. Those
names are loaded on first use, so ``import tmplstudio`` (the CLI does it for the version) stays
cheap.
"""

from functools import lru_cache

__version__ = "0.1.0"
_API = ("check", "check_message", "Project", "Result", "Finding", "Severity")
__all__ = ["__version__", "documentation_url", *_API]


def __getattr__(name: str):
    if name in _API:
        from tmplstudio import api

        return getattr(api, name)
    raise AttributeError(f"module 'tmplstudio' has no attribute {name!r}")


@lru_cache(maxsize=1)
def documentation_url() -> str | None:
    """The Documentation URL from the package's metadata (pyproject.toml's [project.urls]), or None."""
    from importlib import metadata

    try:
        entries = metadata.metadata("tmplstudio").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip().rstrip("/")
    return None
