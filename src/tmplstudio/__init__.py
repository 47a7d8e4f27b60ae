"""tmplstudio: compliance checks for debt-collection message templates."""

from functools import lru_cache

__version__ = "0.1.0"


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
