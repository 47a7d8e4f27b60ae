"""A template as the engine sees it: source text, metadata, body offset, and file loading."""

from __future__ import annotations

import bisect
import stat
from dataclasses import dataclass, field
from pathlib import Path

from tmplstudio.errors import InputError
from tmplstudio.template import frontmatter
from tmplstudio.template.frontmatter import Problem
from tmplstudio.template.meta import TemplateMeta, build_meta

MAX_TEMPLATE_BYTES = 1_000_000  # a message template is at most a few kB; 1 MB is clearly a wrong file


@dataclass
class Template:
    path: str
    source: str
    meta: TemplateMeta
    body_start: int
    problems: list[Problem] = field(default_factory=list)
    key_positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    _line_starts: list[int] = field(default_factory=list, repr=False)

    @property
    def body(self) -> str:
        return self.source[self.body_start:]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a code-point offset; columns count code points."""
        if not self._line_starts:
            starts = [0]
            src = self.source
            nl = src.find("\n")
            while nl >= 0:
                starts.append(nl + 1)
                nl = src.find("\n", nl + 1)
            self._line_starts = starts
        offset = max(0, min(offset, len(self.source)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def offset_of(self, line: int, column: int) -> int:
        self.position(0)
        line = max(1, min(line, len(self._line_starts)))
        return min(self._line_starts[line - 1] + column - 1, len(self.source))


def parse_template(source: str, path: str | Path = "<template>", default_locale: str | None = None) -> Template:
    """Parse text into a Template. Never raises: problems become findings."""
    path = str(path)
    split = frontmatter.split(source)
    positions = frontmatter.key_offsets(split.fm_text, split.fm_start) if split.has_front_matter else {}
    stem = Path(path).name
    stem = stem[: -len(".j2")] if stem.endswith(".j2") else Path(stem).stem
    fallback = (0, min(3, len(source)))
    meta, problems = build_meta(split.data, stem or "template", source[split.body_start:], positions, default_locale, fallback)
    return Template(path, source, meta, split.body_start, list(split.problems) + problems, positions)


def read_template_file(path: Path) -> str:
    """Read a template file as text, turning every way a file can be unusable into an InputError."""
    try:
        if path.is_dir():
            raise InputError("is a folder, not a template file", path)
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # reading a FIFO would wait forever for a writer
            raise InputError("not a regular file (a pipe, socket or device), not a template file", path)
        size = st.st_size
        if size > MAX_TEMPLATE_BYTES:
            raise InputError(f"file is {size / 1e6:.1f} MB; templates are limited to {MAX_TEMPLATE_BYTES // 1_000_000} MB (is this the right file?)", path)
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except PermissionError:
        raise InputError("permission denied", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    if b"\x00" in data[:8192]:
        raise InputError("binary file (contains NUL bytes), not a text template", path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", path, line, col) from None
    return text
