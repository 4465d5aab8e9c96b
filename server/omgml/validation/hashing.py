"""64-bit hashes of Arrow values, vectorised with numpy: the engine behind duplicate and overlap counts.

Equal values hash equal across files and formats: integers and integral floats share one
encoding (1 == 1.0), timestamps are normalised to nanoseconds, strings hash their UTF-8 bytes.
Null hashes to its own constant. Rows hash by folding their columns' hashes in column order.

Two different rows share a 64-bit hash with probability about n**2 / 2**65 (3e-6 for 10 million
rows), so duplicate counts are exact unless that improbable collision happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
NULL_HASH = np.uint64(0x6A09E667F3BCC909)
_FLOAT_DOMAIN = np.uint64(0x3C6EF372FE94F82B)
_STRING_DOMAIN = np.uint64(0xA54FF53A5F1D36F1)
_UINT64_DOMAIN = np.uint64(0x510E527FADE682D1)
_NAN_BITS = np.array(np.nan).view(np.uint64)[()]
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection on uint64 that spreads every input bit over the output.

    Leaves ``z`` alone: works in place on a fresh copy with one scratch array (big temporaries cost page faults).
    """
    z = np.add(z, _GOLDEN)
    scratch = np.right_shift(z, np.uint64(30))
    np.bitwise_xor(z, scratch, out=z)
    np.multiply(z, _M1, out=z)
    np.right_shift(z, np.uint64(27), out=scratch)
    np.bitwise_xor(z, scratch, out=z)
    np.multiply(z, _M2, out=z)
    np.right_shift(z, np.uint64(31), out=scratch)
    np.bitwise_xor(z, scratch, out=z)
    return z


def hash_array(arr: pa.Array) -> np.ndarray:
    """One uint64 per value of ``arr``; equal values (across int/float, timestamp units) hash equal."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = arr.type
    if pa.types.is_dictionary(kind):
        arr, kind = arr.dictionary_decode(), arr.type.value_type
    if pa.types.is_null(kind):
        return np.full(len(arr), NULL_HASH, dtype=np.uint64)
    if pa.types.is_uint64(kind):
        # Up to 2**63 - 1 the bits are the int64 ones (5 hashes as 5 in any integer type); above, a domain
        # tag keeps 2**64 - 1 apart from -1, whose int64 bits it shares.
        raw = numpy_filled(arr, 0)
        out = mix(np.where(raw > np.uint64(np.iinfo(np.int64).max), raw ^ _UINT64_DOMAIN, raw))
    elif pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        values = pc.cast(arr, pa.int64()) if not pa.types.is_int64(kind) else arr
        out = mix(numpy_filled(values, 0).view(np.uint64))
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        out = hash_floats(numpy_filled(pc.cast(arr, pa.float64()) if not pa.types.is_float64(kind) else arr, 0.0))
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_time(kind) or pa.types.is_duration(kind):
        out = mix(_temporal_ns(arr).view(np.uint64))
    elif (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    ):
        out = hash_bytes(arr)
    elif pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
        out = hash_bytes(pc.cast(arr, pa.large_string() if pa.types.is_string_view(kind) else pa.large_binary()))
    else:  # nested and other rare types: hash their text form
        out = hash_bytes(pa.array([None if v is None else repr(v) for v in arr.to_pylist()], type=pa.string()))
    return mark_nulls(out, arr)


def mark_nulls(hashes: np.ndarray, arr: pa.Array) -> np.ndarray:
    """``hashes`` (one per value of ``arr``) with NULL_HASH where ``arr`` is null, set in place."""
    if arr.null_count:
        hashes[arr.is_null().to_numpy(zero_copy_only=False)] = NULL_HASH
    return hashes


def hash_floats(
    values: np.ndarray, as_int: np.ndarray | None = None, integral: np.ndarray | None = None, nan: bool = True
) -> np.ndarray:
    """Floats that hold an integer hash as that integer; NaN has one canonical hash, -0.0 equals 0.0.

    ``as_int`` and ``integral`` are ``integer_parts(values)`` when the caller has them already;
    ``nan=False`` when the caller knows no value is NaN (or those that are get overwritten).
    """
    if as_int is None or integral is None:
        as_int, integral = integer_parts(values)
    if integral.all():
        return mix(as_int.view(np.uint64))
    bits = values.view(np.uint64) ^ _FLOAT_DOMAIN
    if nan:  # NaN has many bit patterns: one hash for all
        np.copyto(bits, _NAN_BITS ^ _FLOAT_DOMAIN, where=np.isnan(values))
    # integral floats take the integer's bits; the domain tag keeps other floats apart from integers
    np.copyto(bits, as_int.view(np.uint64), where=integral)
    return mix(bits)


def integer_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each float truncated to int64, and whether that is the float's exact value (False for NaN,
    infinities and whole numbers beyond int64, whose conversion lands on garbage)."""
    with np.errstate(invalid="ignore"):
        as_int = values.astype(np.int64)
    return as_int, as_int == values


def numpy_filled(arr: pa.Array, value) -> np.ndarray:
    """The values as a numpy array, nulls replaced by ``value`` (they are overwritten with NULL_HASH later)."""
    import pyarrow.compute as pc

    if arr.null_count:
        arr = pc.fill_null(arr, value)
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def _temporal_ns(arr: pa.Array) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = arr.type
    if pa.types.is_date32(kind):
        factor = 86_400 * 1_000_000_000
    elif pa.types.is_date64(kind):
        factor = 1_000_000
    else:
        factor = _NS_PER_UNIT.get(getattr(kind, "unit", "ns"), 1)
    width = pa.int32() if kind.bit_width == 32 else pa.int64()
    raw = pc.fill_null(arr.view(width), 0) if arr.null_count else arr.view(width)
    with np.errstate(over="ignore"):
        return np.asarray(raw.to_numpy(zero_copy_only=False)).astype(np.int64) * np.int64(factor)


def hash_bytes(arr: pa.Array) -> np.ndarray:
    """Hash each string's bytes: XOR of a mixed (position, byte) code per byte, then mixed with the length.

    Vectorised over the Arrow data buffer, so no Python object is made per value.
    """
    import pyarrow as pa

    n = len(arr)
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64 if large else np.int32)[arr.offset : arr.offset + n + 1]
    offsets = offsets.astype(np.int64)
    base = offsets[0]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)[base : offsets[-1]]
        if buffers[2] is not None
        else np.empty(0, np.uint8)
    )
    starts = offsets[:-1] - base
    lengths = np.diff(offsets)
    out = np.zeros(n, dtype=np.uint64)
    if len(data):
        position = np.arange(len(data), dtype=np.int64) - np.repeat(starts, lengths)
        codes = mix((position.astype(np.uint64) << np.uint64(8)) | data.astype(np.uint64))
        filled = lengths > 0
        out[filled] = np.bitwise_xor.reduceat(codes, starts[filled])
    return mix(out ^ mix(lengths.astype(np.uint64) ^ _STRING_DOMAIN))


class DistinctSketch:
    """K minimum values: the k smallest distinct hashes estimate how many distinct values a column has.

    Exact while fewer than ``k`` distinct values were seen; beyond that the relative error is
    about 1 / sqrt(k) (2% for k = 2048).
    """

    def __init__(self, k: int = 2048) -> None:
        self.k = k
        self.values = np.empty(0, dtype=np.uint64)

    def update(self, hashes: np.ndarray) -> None:
        if len(hashes) == 0:
            return
        if len(self.values) >= self.k:
            hashes = hashes[hashes < self.values[-1]]
            if len(hashes) == 0:
                return
        elif len(hashes) > 4 * self.k:
            cut = np.sort(np.partition(hashes, 4 * self.k)[: 4 * self.k])
            if 1 + np.count_nonzero(cut[1:] != cut[:-1]) >= self.k:
                hashes = cut
        # self.values is sorted: a stable sort (timsort) of two sorted runs is a linear merge
        merged = np.sort(np.concatenate([self.values, np.sort(hashes)]), kind="stable")
        if len(merged) > 1:
            merged = merged[np.concatenate([[True], merged[1:] != merged[:-1]])]
        self.values = merged[: self.k]

    @property
    def exact(self) -> bool:
        return len(self.values) < self.k

    def estimate(self) -> int:
        if self.exact:
            return len(self.values)
        return round((self.k - 1) / (float(self.values[-1]) / 2.0**64))
