"""A chart archive's tar stream, read forward block by block, every byte paid for before it is read.

Python's tarfile reads a PAX extended header or a GNU long name whole, at whatever size its header
declares (a 2 MB .tgz can declare 2 GiB of PAX records), keeps every member it has seen, and follows
sparse maps of any length. Chart archives arrive in pull requests, so this module parses the stream
itself, the way tarfile does (ustar, v7, GNU and PAX headers; GNU and PAX sparse files), and makes
its caller pay for each byte before it is decompressed:

* header blocks, PAX and GNU long-name payloads, sparse maps, padding and skipped member data go
  through ``charge`` (the loader charges them to the chart's total budget);
* a regular file's content is paid by the caller (the loader's ``_Budget.take``) before ``read``.

A PAX or GNU long-name payload is also held to ``max_bytes`` and to Helm's own 1 MiB cap before a
byte of it is read. Decompression is streamed (``gzip.GzipFile``, ``bz2.BZ2File``, ``lzma.LZMAFile``
read in bounded chunks), so a decompression bomb inflates only as far as the budget pays for.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

BLOCK = 512
# Go's archive/tar (what Helm reads charts with) refuses PAX headers and GNU long names over 1 MiB.
MAX_HEADER_BYTES = 1 << 20
# Sparse maps are lists the reader must hold; real files have a handful of entries, a hostile map millions.
MAX_SPARSE_ENTRIES = 10_000
# Extension headers (PAX, GNU long name/link) in front of one member; writers use one or two.
MAX_CHAIN = 16
SKIP_CHUNK = 1 << 16  # skipped data is decompressed and dropped this much at a time

REGULAR = (b"0", b"\0", b"7", b"S")  # tarfile.REGULAR_TYPES
SUPPORTED = REGULAR + (b"1", b"2", b"3", b"4", b"5", b"6", b"L", b"K")  # tarfile.SUPPORTED_TYPES
GNU_TYPES = (b"L", b"K", b"S")
PAX_TYPES = (b"x", b"g", b"X")
LONG_TYPES = (b"L", b"K")
_LABELS = {
    b"x": "PAX extended header",
    b"X": "PAX extended header",
    b"g": "PAX global header",
    b"L": "GNU long name",
    b"K": "GNU long link name",
}

# The PAX keywords that change what a reader of the chart sees; the rest (times, owners, xattrs,
# comments) are parsed for framing and dropped, so a header cannot grow memory through them.
_PAX_KEYS = frozenset({
    "path", "linkpath", "size", "GNU.sparse.name", "GNU.sparse.size", "GNU.sparse.realsize",
    "GNU.sparse.major", "GNU.sparse.minor", "GNU.sparse.map",
})
_PAX_RAW_KEYS = frozenset(key.encode() for key in _PAX_KEYS)
_PAX_NAME_KEYS = frozenset({"path", "linkpath", "uname", "gname"})  # hdrcharset applies to these

# tarfile's defaults for names: the filesystem encoding, undecodable bytes kept as surrogates.
ENCODING = sys.getfilesystemencoding()
ERRORS = "surrogateescape"

_DECOMPRESS_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, ValueError)


class TarError(Exception):
    """The stream is not a tar archive this reader accepts (corrupt, truncated, or not tar at all)."""


class TarLimitError(TarError):
    """The archive declares more than the limits allow (a header's size, entries, a sparse map)."""


class _HeaderError(Exception):
    """A block that is not a valid header: an error at the start, the end of the archive later (tarfile)."""


@dataclass
class Member:
    """One archive entry after its extension headers are applied (what tarfile calls a TarInfo)."""

    name: str
    type: bytes
    size: int  # the file's length as tarfile reports it (a sparse file's expanded length)
    linkname: str
    offset: int  # where the entry's first header starts in the decompressed stream
    sparse: list[tuple[int, int]] | None = None  # (offset, length) data chunks of a sparse file
    start: int = 0  # where the content starts in the stream (after a PAX 1.0 sparse map)
    end: int = 0  # where the entry's data, padded to a block, ends: the next header
    consumed: bool = False  # its content was read

    def isreg(self) -> bool:
        return self.type in REGULAR


@dataclass
class _Header:
    """One parsed header block, before extension headers and PAX globals are applied."""

    name: str
    type: bytes
    size: int
    linkname: str
    sparse: tuple[list[tuple[int, int]], bool, int] | None = None  # old GNU 'S': structs, isextended, size


@dataclass
class _Ext:
    """One extension header in front of a member, kept until the member is read (tarfile applies them inner first)."""

    type: bytes
    text: str = ""  # L, K
    pax: dict[str, str] = field(default_factory=dict)  # x, X: a copy of the globals plus its records; g: the globals
    offsets: list[int] = field(default_factory=list)  # PAX sparse 0.0, from this header's records
    numbytes: list[int] = field(default_factory=list)


def _block(count: int) -> int:
    return -(-count // BLOCK) * BLOCK


def _nts(data: bytes, encoding: str = ENCODING, errors: str = ERRORS) -> str:
    end = data.find(b"\0")
    return (data if end == -1 else data[:end]).decode(encoding, errors)


def _nti(data: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 (leading 0x80, or 0xff for negative)."""
    if data[0] in (0o200, 0o377):
        n = int.from_bytes(data[1:], "big")
        return n - 256 ** (len(data) - 1) if data[0] == 0o377 else n
    try:
        return int(_nts(data, "ascii", "strict").strip() or "0", 8)
    except ValueError:
        raise _HeaderError("invalid header") from None


def _checksums(buf: bytes) -> tuple[int, int]:
    # As tarfile: the checksum field counts as spaces; some old tars summed signed chars.
    unsigned = 256 + sum(struct.unpack_from("148B8x356B", buf))
    signed = 256 + sum(struct.unpack_from("148b8x356b", buf))
    return unsigned, signed


def _parse_header(buf: bytes) -> _Header:
    """tarfile.TarInfo.frombuf for the fields a chart reader needs (the others still validated)."""
    chksum = _nti(buf[148:156])
    if chksum not in _checksums(buf):
        raise _HeaderError("bad checksum")
    name = _nts(buf[0:100])
    for lo, hi in ((100, 108), (108, 116), (116, 124), (136, 148), (329, 337), (337, 345)):
        _nti(buf[lo:hi])  # mode, uid, gid, mtime, devmajor, devminor: tarfile refuses the header if not numbers
    size = _nti(buf[124:136])
    kind = buf[156:157]
    linkname = _nts(buf[157:257])
    prefix = _nts(buf[345:500])
    if kind == b"\0" and name.endswith("/"):
        kind = b"5"  # v7 tar: a directory is a regular file whose name ends in a slash
    sparse = None
    if kind == b"S":
        structs = []
        for pos in range(386, 386 + 4 * 24, 24):
            structs.append((_nti(buf[pos:pos + 12]), _nti(buf[pos + 12:pos + 24])))
        sparse = (structs, bool(buf[482]), _nti(buf[483:495]))
    if kind == b"5":
        name = name.rstrip("/")
    if prefix and kind not in GNU_TYPES:
        name = prefix + "/" + name
    return _Header(name, kind, size, linkname, sparse)


def _decode_pax(value: bytes, encoding: str, fallback: str = "utf-8") -> str:
    # tarfile._decode_pax_field: strict first (raw bytes from old GNU tars must not abort the read).
    try:
        return value.decode(encoding, "strict")
    except UnicodeDecodeError:
        return value.decode(fallback, ERRORS)


def _pax_records(buf: bytes) -> Iterator[tuple[bytes, bytes]]:
    """``"%d %s=%s\\n"`` records, framed strictly as tarfile does since the fix for CVE-2024-6232.

    Linear in the payload: older tarfile (3.11.7 here) searched it with regexes that go quadratic
    on a long run of digits.
    """
    pos = 0
    while pos < len(buf) and buf[pos] != 0:
        space = buf.find(b" ", pos, pos + 21)  # at most 20 digits
        digits = buf[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise _HeaderError("invalid header")
        length = int(digits)
        end = pos + length - 1  # the record's closing newline
        if length < 5 or end >= len(buf) or buf[end] != 0x0A:
            raise _HeaderError("invalid header")
        equals = buf.find(b"=", space + 1, end)
        if equals <= space + 1:
            raise _HeaderError("invalid header")
        yield buf[space + 1:equals], buf[equals + 1:end]
        pos += length


def _to_int(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise TarError(f"invalid {what} {value[:40]!r}") from None
    if number < 0:
        raise TarError(f"negative {what}")
    return number


def _open_stream(data: bytes) -> tuple[io.BufferedIOBase, tuple[type[BaseException], ...]]:
    """The decompressed stream and what its reads raise on bad data.

    gzip is what Helm writes and reads; bzip2, xz and plain tar are what tarfile's "r:*" also took.
    Each decompressor is read in bounded chunks (it inflates at most what one read asks for).
    """
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb"), _DECOMPRESS_ERRORS
    if data[:3] == b"BZh":
        import bz2

        return bz2.BZ2File(raw), _DECOMPRESS_ERRORS
    if data[:6] == b"\xfd7zXZ\x00":
        import lzma

        return lzma.LZMAFile(raw), (*_DECOMPRESS_ERRORS, lzma.LZMAError)
    return raw, _DECOMPRESS_ERRORS


class TarReader:
    """Members of a tar stream, one at a time; nothing is decompressed before ``charge`` accepts it.

    ``charge(n)`` is called before n bytes that are no file content are read, and must raise to stop
    the read. A regular member's content is read with ``read(member)`` after the caller has paid for
    ``member.size``; a member not read is skipped (its data charged) when the next one is asked for.
    Only the current member is held: there is no member list to grow.
    """

    def __init__(self, data: bytes, charge: Callable[[int], None], *, max_bytes: int, max_entries: int) -> None:
        self._stream, self._errors = _open_stream(data)
        self._charge = charge
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._pos = 0  # bytes consumed from the decompressed stream
        self._paid = 0  # bytes of the stream paid for: reads never go past this
        self._next = 0  # where the next header starts
        self._entries = 0
        self._globals: dict[str, str] = {}  # PAX global ('g') records, applied to every later member
        self._current: Member | None = None
        self._done = False

    def close(self) -> None:
        self._stream.close()

    def __iter__(self) -> Iterator[Member]:
        while not self._done:
            member = self._next_member()
            if member is None:
                self._done = True
                return
            self._current = member
            yield member

    # --- paying and reading ----------------------------------------------------------------------

    def _pay(self, upto: int) -> None:
        """Pay (through ``charge``) for the stream up to offset ``upto``, before any of it is read."""
        if upto > self._paid:
            self._charge(upto - self._paid)
            self._paid = upto

    def _read(self, size: int) -> bytes:
        """Up to ``size`` paid bytes (fewer only at the end of the stream)."""
        if self._pos + size > self._paid:  # pragma: no cover - every caller pays first
            raise AssertionError("tar stream read before it was paid for")
        chunks = []
        want = size
        try:
            while want > 0:
                chunk = self._stream.read(want)
                if not chunk:
                    break
                chunks.append(chunk)
                want -= len(chunk)
        except self._errors as exc:
            raise TarError(f"corrupt compressed data: {exc}") from None
        data = b"".join(chunks)
        self._pos += len(data)
        return data

    def _read_exact(self, size: int) -> bytes:
        self._pay(self._pos + size)
        data = self._read(size)
        if len(data) != size:
            raise TarError("unexpected end of data")
        return data

    def _skip_to(self, offset: int) -> None:
        """Decompress and drop the stream up to ``offset`` (paid first), a chunk at a time."""
        self._pay(offset)
        while self._pos < offset:
            if not self._read(min(SKIP_CHUNK, offset - self._pos)):
                raise TarError("unexpected end of data")

    def read(self, member: Member) -> bytes:
        """The content of the current regular member; the caller has paid for ``member.size`` bytes."""
        if member is not self._current or member.consumed or not member.isreg():
            raise TarError(f"{member.name}: not the current regular member")
        if member.size > self._max_bytes:
            raise TarLimitError(f"{member.name} is {member.size} bytes, larger than the {self._max_bytes}-byte limit")
        member.consumed = True
        # The content is paid for: credit it, and charge the rest of the data area (padding, any excess).
        stored = member.end - max(self._paid, member.start)
        self._paid += max(0, min(member.size, stored))
        self._pay(member.end)
        if member.sparse is None:
            if member.start + member.size > member.end:
                raise TarError(f"{member.name}: its data runs past the member")
            data = self._read(member.size)
            if len(data) != member.size:
                raise TarError("unexpected end of data")
            return data
        out = bytearray(member.size)  # holes read as zeros (size <= max_bytes, checked above)
        last = 0
        for offset, length in member.sparse:
            if length == 0:
                continue  # empty slots of the old GNU header and the closing (size, 0) entry
            if offset < last or offset + length > member.size or self._pos + length > member.end:
                raise TarError(f"{member.name}: invalid sparse map")
            chunk = self._read(length)
            if len(chunk) != length:
                raise TarError("unexpected end of data")
            out[offset:offset + length] = chunk
            last = offset + length
        return bytes(out)

    # --- headers ---------------------------------------------------------------------------------

    def _header_block(self) -> bytes | None:
        """The next 512-byte header block; None for a block of zeros (the end-of-archive marker)."""
        buf = self._read_exact_or_short(BLOCK)
        if not buf:
            raise _HeaderError("empty header")
        if len(buf) != BLOCK:
            raise _HeaderError("truncated header")
        if buf.count(0) == BLOCK:
            return None
        self._entries += 1
        if self._entries > self._max_entries:
            raise TarLimitError(f"more than {self._max_entries} tar headers")
        return buf

    def _read_exact_or_short(self, size: int) -> bytes:
        self._pay(self._pos + size)
        return self._read(size)

    def _payload(self, header: _Header, at: int) -> bytes:
        """A PAX or GNU long-name payload: its declared size is checked before a byte of it is read."""
        limit = min(self._max_bytes, MAX_HEADER_BYTES)
        if header.size > limit:
            why = "max-file-size" if limit == self._max_bytes else "Helm's limit for one tar header"
            raise TarLimitError(
                f"the {_LABELS[header.type]} at byte {at} declares {header.size} bytes, "
                f"more than the {limit}-byte limit ({why})"
            )
        return self._read_exact(_block(header.size))  # padding included: tarfile parses the whole blocks

    def _next_member(self) -> Member | None:
        if self._pos < self._next:
            self._skip_to(self._next)  # the previous member's data (paid now if it was not read)
        start = self._pos
        chain: list[_Ext] = []
        while True:
            first = not chain
            at = self._pos
            try:
                buf = self._header_block()
                if buf is None:
                    if first:
                        return None
                    raise _HeaderError("end of file header")
                header = _parse_header(buf)
                if header.type not in LONG_TYPES and header.type not in PAX_TYPES:
                    return self._member(header, start, chain)
                if len(chain) >= MAX_CHAIN:
                    raise TarLimitError(f"more than {MAX_CHAIN} extension headers in front of one member at byte {start}")
                payload = self._payload(header, at)
                chain.append(self._extension(header, payload))
            except _HeaderError as exc:
                # tarfile: a bad header ends the archive, unless it is the first one or follows an
                # extension header (then the archive is broken).
                if first and start > 0:
                    return None
                raise TarError(str(exc)) from None

    def _extension(self, header: _Header, payload: bytes) -> _Ext:
        if header.type in LONG_TYPES:
            return _Ext(header.type, text=_nts(payload))
        ext = _Ext(header.type)
        charset: bytes | None = None  # the first hdrcharset record says how this header's names are encoded
        kept: list[tuple[bytes, bytes]] = []
        for raw_key, raw_value in _pax_records(payload):  # every record's framing is checked
            if raw_key == b"hdrcharset" and charset is None:
                charset = raw_value
            if raw_key == b"GNU.sparse.offset" or raw_key == b"GNU.sparse.numbytes":
                target = ext.offsets if raw_key == b"GNU.sparse.offset" else ext.numbytes
                if len(target) >= MAX_SPARSE_ENTRIES:
                    raise TarLimitError(f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries")
                try:
                    target.append(int(raw_value.decode("ascii")))
                except ValueError:
                    target.append(-1)  # refused if the member turns out to be a 0.0 sparse file
            elif raw_key in _PAX_RAW_KEYS:
                kept.append((raw_key, raw_value))
        # As tarfile: a global header updates the globals in place, an extended one a copy of them.
        ext.pax = self._globals if header.type == b"g" else dict(self._globals)
        encoding = ENCODING if charset == b"BINARY" else "utf-8"
        for raw_key, raw_value in kept:
            key = raw_key.decode("ascii")
            if key in _PAX_NAME_KEYS:
                ext.pax[key] = _decode_pax(raw_value, encoding, ENCODING)
            else:
                ext.pax[key] = _decode_pax(raw_value, "utf-8")
        return ext

    def _member(self, header: _Header, start: int, chain: list[_Ext]) -> Member:
        """Apply what tarfile applies, in its order: the member's own header, then the extension headers inner first."""
        member = Member(header.name, header.type, header.size, header.linkname, start)
        member.start = self._pos
        if header.sparse is not None:  # old GNU sparse: more map entries may follow in 512-byte blocks
            structs, extended, real_size = header.sparse
            slots = len(structs)
            while extended:
                slots += 21  # empty slots count too: a chain of empty blocks is a map all the same
                if slots > MAX_SPARSE_ENTRIES:
                    raise TarLimitError(f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries")
                buf = self._read_exact(BLOCK)
                for pos in range(0, 21 * 24, 24):
                    offset, length = _nti(buf[pos:pos + 12]), _nti(buf[pos + 12:pos + 24])
                    if offset and length:
                        structs.append((offset, length))
                extended = bool(buf[504])
            member.sparse = structs
            member.start = self._pos
            member.end = member.start + _block(header.size)
            member.size = real_size
        else:
            member.end = member.start + (_block(member.size) if self._skips(member) else 0)
            self._apply(member, self._globals)
            if member.type == b"5":
                member.name = member.name.rstrip("/")
        for ext in reversed(chain):
            if ext.type == b"L":
                member.name = ext.text.removesuffix("/") if member.type == b"5" else ext.text
            elif ext.type == b"K":
                member.linkname = ext.text
            else:
                self._sparse(member, ext)
                if ext.type != b"g":
                    self._apply(member, ext.pax)
                    if "size" in ext.pax:
                        member.end = member.start + (_block(member.size) if self._skips(member) else 0)
        # A negative size (base-256 allows them) is harmless on a directory or a link, as in tarfile;
        # on a file it would move the next header backwards (tarfile then reads the archive for ever).
        if (member.size < 0 and self._skips(member)) or member.end < self._pos:
            raise TarError(f"{member.name}: invalid size")
        self._next = member.end
        return member

    @staticmethod
    def _skips(member: Member) -> bool:
        # tarfile skips data after regular files and unknown types; other types have none, whatever their size.
        return member.isreg() or member.type not in SUPPORTED

    @staticmethod
    def _apply(member: Member, pax: dict[str, str]) -> None:
        """tarfile's _apply_pax_info, in the records' order (a later key wins)."""
        for key, value in pax.items():
            if key == "GNU.sparse.name":
                member.name = value
            elif key in ("GNU.sparse.size", "GNU.sparse.realsize"):
                member.size = _to_int(value, key)
            elif key == "path":
                member.name = value.rstrip("/")
            elif key == "linkpath":
                member.linkname = value
            elif key == "size":
                try:
                    member.size = int(value)
                except ValueError:
                    member.size = 0  # as tarfile

    def _sparse(self, member: Member, ext: _Ext) -> None:
        """PAX sparse files (GNU formats 0.0, 0.1 and 1.0), as tarfile._proc_pax reads them."""
        pax = ext.pax
        if "GNU.sparse.map" in pax:
            text = pax["GNU.sparse.map"]
            if text.count(",") >= 2 * MAX_SPARSE_ENTRIES:
                raise TarLimitError(f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries")
            pairs = [_to_int(x, "sparse map entry") for x in text.split(",")]
            member.sparse = list(zip(pairs[::2], pairs[1::2], strict=False))  # as tarfile: drops an odd last number
        elif "GNU.sparse.size" in pax:
            if min(ext.offsets + ext.numbytes, default=0) < 0:
                raise TarError(f"{member.name}: invalid sparse map")
            member.sparse = list(zip(ext.offsets, ext.numbytes, strict=False))  # as tarfile: drops unpaired records
        elif pax.get("GNU.sparse.major") == "1" and pax.get("GNU.sparse.minor") == "0":
            if not member.isreg() or self._pos != member.start or member.start + BLOCK > member.end:
                raise TarError(f"{member.name}: invalid sparse map")
            # The map sits at the start of the data: a count, then offset and length per entry, one a line.
            buf = self._read_exact(BLOCK)
            count_text, _, buf = buf.partition(b"\n")
            count = _to_int(count_text.decode("ascii", "replace"), "sparse map size")
            if count > MAX_SPARSE_ENTRIES:
                raise TarLimitError(f"a sparse map of more than {MAX_SPARSE_ENTRIES} entries")
            numbers: list[int] = []
            while len(numbers) < 2 * count:
                if b"\n" not in buf:
                    if self._pos + BLOCK > member.end:
                        raise TarError(f"{member.name}: invalid sparse map")
                    buf += self._read_exact(BLOCK)
                    if b"\n" not in buf:
                        raise TarError(f"{member.name}: invalid sparse map")
                number, _, buf = buf.partition(b"\n")
                numbers.append(_to_int(number.decode("ascii", "replace"), "sparse map entry"))
            member.start = self._pos
            member.sparse = list(zip(numbers[::2], numbers[1::2], strict=True))  # 2 * count numbers: always pairs
