"""Reading a pack (zip or folder) that may be hostile, within fixed bounds.

Before anything is decompressed or read: at most ``MAX_ENTRIES`` entries (counted from the zip's
end record, before its central directory is parsed), each at most ``MAX_ENTRY_BYTES``, all
together at most ``MAX_TOTAL_BYTES``, and no entry over 1 MiB that expands more than
``MAX_RATIO`` times its compressed size. Every path must be a safe relative path (names.py), no
name may appear twice, and a folder pack may hold only regular files: a symbolic link (to
``/dev/zero``, say), a FIFO or a device is refused without being opened. Hashes are computed
while streaming; only the small files verify needs are kept in memory.

Every refusal is an InputError naming the pack and the entry (exit 2).
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zipfile
from pathlib import Path

from tmplstudio.errors import InputError
from tmplstudio.pack.names import member_problem

MAX_ENTRIES = 10_000
MAX_ENTRY_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 256 * 2**20
MAX_ZIP_BYTES = 256 * 2**20
MAX_RATIO = 100
RATIO_FLOOR = 2**20      # small entries may compress as well as they like
CHUNK = 1 << 16


def _zip_entry_count(path: Path) -> int | None:
    """The entry count from the zip's end-of-central-directory record (None: not found)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            tail = min(size, 22 + 65535)
            handle.seek(size - tail)
            data = handle.read(tail)
            at = data.rfind(b"PK\x05\x06")
            if at < 0 or at + 22 > len(data):
                return None
            count = struct.unpack("<H", data[at + 10:at + 12])[0]
            if count != 0xFFFF:
                return count
            locator = data.rfind(b"PK\x06\x07", 0, at)   # zip64: the real count is in the zip64 record
            if locator < 0:
                return None
            offset = struct.unpack("<Q", data[locator + 8:locator + 16])[0]
            handle.seek(offset)
            record = handle.read(56)
            if record[:4] != b"PK\x06\x06":
                return None
            return struct.unpack("<Q", record[32:40])[0]
    except (OSError, struct.error):
        return None


class PackFiles:
    """The files of one pack: names, streamed hashes, bounded reads."""

    def __init__(self, pack: Path):
        self.pack = Path(pack)
        self.sizes: dict[str, int] = {}
        self.total = 0
        self._zip: zipfile.ZipFile | None = None
        self._hashes: dict[str, str] = {}
        if not self.pack.exists() and not self.pack.is_symlink():
            raise InputError("no such pack (zip file or folder)", self.pack)
        if self.pack.is_dir():
            self._scan_folder()
        else:
            self._open_zip()

    @property
    def names(self) -> list[str]:
        return sorted(self.sizes)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "PackFiles":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _admit(self, name: str, size: int, compressed: int | None = None) -> None:
        where = f"entry {name!r}"
        problem = member_problem(name)
        if problem:
            raise InputError(f"{where} is {problem}; a pack holds only relative paths inside it", self.pack)
        if name in self.sizes:
            raise InputError(f"the pack holds {name!r} twice", self.pack)
        if len(self.sizes) >= MAX_ENTRIES:
            raise InputError(f"the pack holds more than {MAX_ENTRIES:,} files; not a tmplstudio pack", self.pack)
        if size > MAX_ENTRY_BYTES:
            raise InputError(f"{where} is {size / 2**20:,.0f} MiB, over the {MAX_ENTRY_BYTES // 2**20} MiB limit "
                             "for a file of a pack", self.pack)
        if compressed is not None and size > RATIO_FLOOR and size > MAX_RATIO * max(compressed, 1):
            raise InputError(f"{where} expands {size / max(compressed, 1):,.0f} times (a zip bomb?); "
                             f"refused above {MAX_RATIO} times", self.pack)
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            raise InputError(f"the pack's files add up to more than {MAX_TOTAL_BYTES // 2**20} MiB", self.pack)
        self.sizes[name] = size

    def _open_zip(self) -> None:
        try:
            size = self.pack.stat().st_size
            if not stat.S_ISREG(self.pack.stat().st_mode):
                raise InputError("not a regular file or a folder (a pipe, socket or device?)", self.pack)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", self.pack) from None
        if size > MAX_ZIP_BYTES:
            raise InputError(f"is {size / 2**20:,.0f} MiB; packs are limited to {MAX_ZIP_BYTES // 2**20} MiB", self.pack)
        count = _zip_entry_count(self.pack)
        if count is not None and count > MAX_ENTRIES:
            raise InputError(f"the zip holds {count:,} entries, more than the {MAX_ENTRIES:,} a pack may hold", self.pack)
        try:
            self._zip = zipfile.ZipFile(self.pack)
            infos = self._zip.infolist()
        except zipfile.BadZipFile:
            raise InputError("not a zip file (and not a folder)", self.pack) from None
        except (OSError, RuntimeError, ValueError, zipfile.LargeZipFile) as exc:
            raise InputError(f"cannot read the zip: {exc}", self.pack) from None
        for info in infos:
            name = info.filename
            if info.is_dir():
                problem = member_problem(name.rstrip("/"))
                if problem:
                    raise InputError(f"entry {name!r} is {problem}", self.pack)
                continue
            if info.flag_bits & 0x1:
                raise InputError(f"entry {name!r} is encrypted; a pack is never encrypted", self.pack)
            self._admit(name, info.file_size, info.compress_size)

    def _scan_folder(self) -> None:
        stack = [self.pack]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror or exc}", folder) from None
            for entry in entries:
                rel = Path(entry.path).relative_to(self.pack).as_posix()
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):  # named by the pack, not the path: a display would resolve the link
                    raise InputError(f"entry {rel!r} is a symbolic link; a pack holds only regular files (links "
                                     "are never followed)", self.pack)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(Path(entry.path))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    raise InputError(f"entry {rel!r} is not a regular file (a pipe, socket or device); a pack "
                                     "holds only regular files", self.pack)
                self._admit(rel, st.st_size)

    def _chunks(self, name: str):
        limit = self.sizes[name]
        if self._zip is not None:
            try:
                with self._zip.open(name) as handle:
                    read = 0
                    while chunk := handle.read(CHUNK):
                        read += len(chunk)
                        if read > limit:
                            raise InputError(f"entry {name!r} holds more than its recorded size", self.pack)
                        yield chunk
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as exc:
                raise InputError(f"cannot read entry {name!r}: {exc}", self.pack) from None
            return
        path = self.pack / name
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError("not a regular file", path)
            read = 0
            while chunk := os.read(fd, CHUNK):
                read += len(chunk)
                if read > MAX_ENTRY_BYTES:
                    raise InputError("grew while it was being read", path)
                yield chunk
        finally:
            os.close(fd)

    def sha256(self, name: str) -> str:
        if name not in self._hashes:
            h = hashlib.sha256()
            for chunk in self._chunks(name):
                h.update(chunk)
            self._hashes[name] = h.hexdigest()
        return self._hashes[name]

    def read(self, name: str) -> bytes:
        data = b"".join(self._chunks(name))
        self._hashes[name] = hashlib.sha256(data).hexdigest()
        return data
