"""Random number generation bit-identical to PyTorch's CPU generator (torch 2.13).

torch's CPU generator is a 32-bit Mersenne Twister (``at::mt19937``) plus a cached Box-Muller
sample. NumPy's ``MT19937`` bit generator runs the same recurrence, so we keep the 624-word state
there, pull raw 32-bit words in bulk with ``random_raw`` and replay torch's transforms in NumPy:

* ``random()`` is one word; ``random64()`` is ``(first << 32) | second``.
* uniform floats take the low 24 (float32/half) or 53 (float64, from ``random64``) bits, scaled by
  ``2**-24`` / ``2**-53``; torch's compiler fuses ``x * (to - from) + from`` into one FMA, so we do too.
* normal: ``numel >= 16`` (contiguous) is a 16-wide Box-Muller fill. For float32 torch runs its AVX2
  ``log256_ps``/``sincos256_ps`` polynomials, replayed here op for op with the FMAs GCC forms.
  Smaller tensors draw doubles one at a time and cache the second Box-Muller value in the state.
* glibc's ``log``, ``log1p``, ``sin``, ``cos`` come from :mod:`math` (the same libm torch calls), or from
  NumPy where a one-off probe shows NumPy gives the same bits. ``log`` is computed in double-double
  and rounded (glibc's log is correctly rounded but for 0.02 ulp around ties); near-ties go to :mod:`math`.
"""

from __future__ import annotations

import functools
import math
import os
from decimal import Decimal, localcontext

from ._backend import np

__all__ = [
    "Generator",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]

DEFAULT_SEED = 67280421310721  # c10's default_rng_seed_val: the seed of every new torch.Generator()
_N = 624  # Mersenne Twister state words
_NORMAL_FILL_MIN = 16  # torch uses the 16-wide Box-Muller fill from this many elements on

# torch's CPUGeneratorImplState, byte for byte (x86-64, little endian): the legacy TH struct kept for
# checkpoint compatibility (64-bit state words, the double normal cache in normal_y) + the float cache.
_STATE_DTYPE = np.dtype(
    {
        "names": ["seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
                  "normal_is_valid", "float_normal", "float_normal_is_valid"],
        "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _N), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
        "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
        "itemsize": 5056,
    }
)  # fmt: skip
STATE_SIZE = _STATE_DTYPE.itemsize

_U64 = np.uint64
_MASK24 = np.uint32(0xFFFFFF)
_MASK53 = _U64((1 << 53) - 1)


def _seed_to_uint64(seed: object) -> int:
    """Map a seed like ``torch.Generator.manual_seed``: ints in ``[-2**63, 2**64)``, negatives wrap."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < (1 << 64):
        raise ValueError("Overflow when unpacking long long")
    return seed & 0xFFFFFFFFFFFFFFFF


def _init_genrand(seed32: int) -> np.ndarray:
    """mt19937 ``init_genrand``: ``s[j] = 1812433253 * (s[j-1] ^ (s[j-1] >> 30)) + j``."""
    key = [seed32]
    s = seed32
    for j in range(1, _N):
        s = (1812433253 * (s ^ (s >> 30)) + j) & 0xFFFFFFFF
        key.append(s)
    return np.array(key, dtype=np.uint32)


# ---------------------------------------------------------------------------------------------
# exact floating-point helpers (error-free transforms) used to replay fused multiply-adds
# ---------------------------------------------------------------------------------------------


def _two_sum(a, b):
    """``s + err == a + b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    """``p + err == a * b`` exactly (Veltkamp split + Dekker product)."""
    p = a * b
    t = a * 134217729.0
    ah = t - (t - a)
    al = a - ah
    t = b * 134217729.0
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _add_round_odd(a, b):
    """``a + b`` rounded to odd: a later rounding to fewer bits is then correct (Boldo-Melquiond)."""
    s, err = _two_sum(a, b)
    fix = (err != 0) & ((s.view(np.int64) & 1) == 0)
    if fix.any():
        s = np.where(fix, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
    return s


def _fma64(a, b, c):
    """Correctly rounded float64 ``a * b + c`` (emulated FMA; no overflow expected)."""
    a, b, c = np.broadcast_arrays(
        np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)
    )
    ph, pl = _two_prod(a, b)
    th, tl = _two_sum(c, ph)
    return th + _add_round_odd(tl, pl)


def _fma32(a, b, c):
    """Correctly rounded float32 ``a * b + c``.

    The product of two floats is exact in float64, so only the float64 sum rounds; that double
    rounding can only go wrong when the sum lands exactly on a float32 tie, which we redo to odd.
    """
    p = np.multiply(a, b, dtype=np.float64)
    s = p + c
    tie = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    if tie.any():
        s[tie] = _add_round_odd(p[tie], np.broadcast_to(np.asarray(c, np.float64), s.shape)[tie])
    return s.astype(np.float32)


def _to_half(x):
    """``static_cast<c10::Half>(double)``: c10::Half is built from float, so round via float32."""
    return np.asarray(x).astype(np.float32).astype(np.float16)


def _cast(x, np_dtype):
    """``static_cast<scalar_t>`` of float64 values."""
    np_dtype = np.dtype(np_dtype)
    if np_dtype.name == "bfloat16":  # c10::BFloat16 is built from float too
        return np.asarray(x).astype(np.float32).astype(np_dtype)
    return _to_half(x) if np_dtype == np.float16 else np.asarray(x).astype(np_dtype)


# ---------------------------------------------------------------------------------------------
# glibc's libm, vectorised where NumPy (or a double-double log) is proven to give the same bits
# ---------------------------------------------------------------------------------------------


@functools.cache
def _log_table() -> tuple[np.ndarray, np.ndarray, float, float]:
    """log(i/128) for i in [96, 192] and ln 2, as double-doubles (via :mod:`decimal`, 40 digits)."""
    with localcontext() as ctx:
        ctx.prec = 40
        ln2 = Decimal(2).ln()
        logs = [(Decimal(i) / 128).ln() for i in range(96, 193)]
        hi = np.array([float(v) for v in logs])
        lo = np.array([float(v - Decimal(h)) for v, h in zip(logs, hi.tolist(), strict=True)])
        ln2_hi = float(ln2) // 2.0**-42 * 2.0**-42  # 42 bits, so e * ln2_hi is exact
        ln2_lo = float(ln2 - Decimal(ln2_hi))
    return hi, lo, ln2_hi, ln2_lo


def _log_glibc(x: np.ndarray) -> np.ndarray:
    """glibc ``log`` for positive normal float64 ``x``.

    glibc's log is correctly rounded except within 0.02 ulp of a tie, so: compute log in
    double-double (table of log(c) + 2 atanh((m - c) / (m + c)), error ~2**-65), round, and hand
    the ~4% of results within 0.02 ulp of a tie to :func:`math.log`.
    """
    hi_tab, lo_tab, ln2_hi, ln2_lo = _log_table()
    m, e = np.frexp(x)  # x = m * 2**e, m in [0.5, 1)
    low = m < 0.75  # centre m in [0.75, 1.5) so that x near 1 has e == 0 (no cancellation)
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype(np.float64)
    i = np.rint(m * 128.0)
    cc = i / 128.0
    d = m - cc  # exact
    dh, dl = _two_sum(m, cc)
    sh = d / dh
    p, pe = _two_prod(sh, dh)
    sl = (((d - p) - pe) - sh * dl) / dh
    s2 = sh * sh
    poly = s2 * (1 / 3 + s2 * (1 / 5 + s2 * (1 / 7 + s2 * (1 / 9))))
    idx = i.astype(np.intp) - 96
    h1, l1 = _two_sum(e * ln2_hi, hi_tab[idx])
    h2, l2 = _two_sum(h1, 2.0 * sh)
    lo = l1 + l2 + (e * ln2_lo + lo_tab[idx] + 2.0 * sl + 2.0 * sh * poly)
    y = h2 + lo
    resid = (h2 - y) + lo
    # glibc is within 0.519 ulp, so it can only pick the other neighbour if we are within 0.02 ulp of a tie
    near_tie = (np.abs(resid) > 0.48 * np.spacing(np.abs(y))) | (
        (y.view(np.uint64) & _U64((1 << 52) - 1)) == 0
    )
    if near_tie.any():
        y[near_tie] = _map(math.log, x[near_tie])
    return y


def _map(fn, x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


_CHOSEN: dict[str, object] = {}


def _libm(name: str, candidates, slow, x: np.ndarray) -> np.ndarray:
    """The first vectorised candidate matching ``slow`` bit for bit on a probe set, else ``slow`` per element.

    The probe runs once per process; it guards against a libm (or NumPy) that differs from the one
    these replays were written for, in which case we stay exact but slow.
    """
    if name not in _CHOSEN:
        probe = _PROBES[name]()
        want = _map(slow, probe).view(np.uint64)
        _CHOSEN[name] = next((f for f in candidates if np.array_equal(f(probe).view(np.uint64), want)), None)
    fast = _CHOSEN[name]
    if fast is not None and x.size > 8:
        return fast(x)
    return _map(slow, x)


def _probe_unit():
    """Multiples of 2**-53 in [0, 1) like torch's double uniforms, plus values near 0 and 1."""
    r = np.random.default_rng(12345)
    k = r.integers(0, 1 << 53, 20000, dtype=np.int64).astype(np.float64) * 2.0**-53
    tiny = np.ldexp(r.random(2000), -r.integers(1, 60, 2000))
    return np.concatenate([k, tiny, [0.0, 0.5], 1.0 - 2.0 ** -np.arange(1, 54)])


_PROBES = {
    "log": lambda: 1.0 - _probe_unit(),
    "sin": lambda: 2.0 * math.pi * _probe_unit(),
    "cos": lambda: 2.0 * math.pi * _probe_unit(),
}


def _glibc_log(x):
    return _libm("log", (_log_glibc,), math.log, x)


def _glibc_sin(x):
    return _libm("sin", (np.sin,), math.sin, x)


def _glibc_cos(x):
    return _libm("cos", (np.cos,), math.cos, x)


# ---------------------------------------------------------------------------------------------
# torch's AVX2 float32 Box-Muller (ATen/native/cpu/avx_mathfun.h), replayed lane by lane
# ---------------------------------------------------------------------------------------------

_F = np.float32
_LOG_P = [_F(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                          3.3333331174e-1)]  # fmt: skip
_LOG_Q1, _LOG_Q2 = _F(-2.12194440e-4), _F(0.693359375)
_DP = (_F(-0.78515625), _F(-2.4187564849853515625e-4), _F(-3.77489497744594108e-8))
_SIN_P = (_F(-1.9515295891e-4), _F(8.3321608736e-3), _F(-1.6666654611e-1))
_COS_P = (_F(2.443315711809948e-005), _F(-1.388731625493765e-003), _F(4.166664568298827e-002))
_FOPI = _F(1.27323954473516)  # 4 / pi
_TWO_PI_F = _F(2.0 * math.pi)


def _log256_ps(x: np.ndarray) -> np.ndarray:
    """Cephes logf as in ``log256_ps`` for x in (0, 1]; GCC fuses every ``a * b + c`` into an FMA."""
    bits = np.maximum(x, _F(1.17549435e-38)).view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(np.float32) + _F(1)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(np.float32)  # mantissa in [0.5, 1)
    below = m < _F(0.707106781186547524)
    x = (m - _F(1)) + np.where(below, m, _F(0))
    e = e - np.where(below, _F(1), _F(0))
    z = x * x
    y = _fma32(_LOG_P[0], x, _LOG_P[1])
    for p in _LOG_P[2:]:
        y = _fma32(y, x, p)
    y = _fma32(y * x, z, e * _LOG_Q1)
    y = y - z * _F(0.5)  # z * 0.5 is exact, so fused or not is the same
    return (x + y) + e * _LOG_Q2  # e * q2 is exact (q2 has 9 bits)


def _sincos256_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cephes sinf/cosf as in ``sincos256_ps`` (x >= 0 here), with GCC's FMAs."""
    j = (x * _FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    for dp in _DP:  # "extended precision modular arithmetic": x - y * pi/4 in three pieces
        x = _fma32(y, dp, x)
    z = x * x
    yc = _fma32(_fma32(_COS_P[0], z, _COS_P[1]), z, _COS_P[2])
    yc = _fma32(yc * z, z, -(z * _F(0.5))) + _F(1)
    ys = _fma32(_fma32(_SIN_P[0], z, _SIN_P[1]), z, _SIN_P[2])
    ys = _fma32(ys * z, x, x)
    poly_cos = (j & 2) == 0  # octant picks which polynomial is the sine
    sin = np.where(poly_cos, ys, yc)
    cos = np.where(poly_cos, yc, ys)
    sin = np.where((j & 4) != 0, -sin, sin)
    cos = np.where(((j - 2) & 4) == 0, -cos, cos)
    return sin, cos


def _normal_fill16_f32(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """AVX2 ``NormalFill16<float>`` on rows of 16 uniforms: lanes 0-7 give cos, lanes 8-15 sin."""
    radius = np.sqrt(_F(-2) * _log256_ps(_F(1) - u[:, :8]))
    sin, cos = _sincos256_ps(_TWO_PI_F * u[:, 8:])
    out = np.empty_like(u)
    out[:, :8] = radius * cos
    out[:, 8:] = radius * sin
    if mean != 0.0:
        return _fma32(out, _F(std), _F(mean))
    return out * _F(std) + _F(mean)  # == fma(out, std, 0.0), including the sign of zero


def _normal_fill16_f64(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Generic ``NormalFill16<double>``: libm log/cos/sin, then ``std::fma(r * cos, std, mean)``."""
    radius = np.sqrt(-2.0 * _glibc_log(1.0 - u[:, :8]))
    theta = (2.0 * math.pi) * u[:, 8:]
    out = np.empty_like(u)
    out[:, :8] = radius * _glibc_cos(theta)
    out[:, 8:] = radius * _glibc_sin(theta)
    if mean != 0.0:
        return _fma64(out, std, mean)
    return out * std + mean  # == fma(out, std, 0.0), including the sign of zero


_CHUNK = 1 << 16  # values per slice: keeps the temporaries of many NumPy passes in cache (~3x faster)


def _chunked(fn, x: np.ndarray, *args) -> np.ndarray:
    """``fn(x, *args)`` slice by slice along axis 0 (``fn`` is row-wise, same dtype and shape out)."""
    step = max(1, _CHUNK // max(1, math.prod(x.shape[1:])))
    if len(x) <= step:
        return fn(x, *args)
    out = np.empty_like(x)
    for i in range(0, len(x), step):
        out[i : i + step] = fn(x[i : i + step], *args)
    return out


# ---------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------


class Generator:
    """A CPU random stream that produces exactly what ``torch.Generator()`` produces."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._bitgen = np.random.MT19937(0)
        self.manual_seed(DEFAULT_SEED)

    def __repr__(self) -> str:
        return f"<ember.Generator object, initial_seed={self._seed}>"

    # -- seeding and state ------------------------------------------------------------------

    def manual_seed(self, seed: int) -> Generator:
        """Reseed like ``torch.Generator.manual_seed``; only the low 32 bits reach mt19937."""
        seed = _seed_to_uint64(seed)
        self._set_engine(seed, _init_genrand(seed & 0xFFFFFFFF), pos=_N, fresh=True)
        self._next_double_normal: float | None = None
        self._next_float_normal: float | None = None
        return self

    def seed(self) -> int:
        """Reseed from ``/dev/urandom`` (64 bits, as c10 does) and return the seed."""
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def _set_engine(self, seed: int, key: np.ndarray, pos: int, fresh: bool) -> None:
        self._seed = seed
        self._bitgen.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        # torch marks a just-seeded engine as next=0, left=1 and a spent one as next=624, left=1;
        # NumPy has pos=624 for both. Remember which, so get_state() gives torch's exact bytes.
        self._fresh = fresh

    def get_state(self):
        """The state as a uint8 tensor of torch's 5056-byte ``CPUGeneratorImplState``."""
        from .tensor import _wrap  # noqa: PLC0415 - tensor.py does not import this module

        return _wrap(self._state_bytes())

    def _state_bytes(self) -> np.ndarray:
        st = self._bitgen.state["state"]
        pos = int(st["pos"])
        rec = np.zeros((), _STATE_DTYPE)
        rec["seed"] = self._seed
        rec["left"] = _N + 1 - pos
        rec["seeded"] = 1
        rec["next"] = 0 if (pos == _N and self._fresh) else pos
        rec["state"] = st["key"].astype(np.uint64)
        if self._next_double_normal is not None:
            rec["normal_is_valid"] = 1
            rec["normal_y"] = self._next_double_normal
        if self._next_float_normal is not None:
            rec["float_normal_is_valid"] = 1
            rec["float_normal"] = self._next_float_normal
        return rec.reshape(1).view(np.uint8).copy()

    def set_state(self, new_state) -> Generator:
        """Restore a state from :meth:`get_state` or ``torch.get_rng_state()`` (checked like torch)."""
        if hasattr(new_state, "numpy") and not isinstance(new_state, np.ndarray):
            new_state = new_state.numpy()
        if not isinstance(new_state, np.ndarray):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if not new_state.flags.c_contiguous:
            raise RuntimeError("RNG state must be contiguous")
        if new_state.size != STATE_SIZE:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG state size "
                f"to be {new_state.size}"
            )
        rec = new_state.reshape(-1).view(_STATE_DTYPE)[0]
        left, nxt = int(rec["left"]), int(rec["next"]) & 0xFFFFFFFF
        if not (rec["seeded"] != 0 and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        # torch twists when `left` runs out, so the words left in this block decide NumPy's position
        key = (rec["state"] & _U64(0xFFFFFFFF)).astype(np.uint32)
        self._set_engine(int(rec["seed"]), key, pos=_N + 1 - left, fresh=(nxt == 0))
        self._next_double_normal = float(rec["normal_y"]) if rec["normal_is_valid"] != 0 else None
        self._next_float_normal = float(rec["float_normal"]) if rec["float_normal_is_valid"] != 0 else None
        return self

    # -- raw words --------------------------------------------------------------------------

    def _random(self, n: int) -> np.ndarray:
        """n calls of torch's ``random()``: uint32 words."""
        if n <= 0:
            return np.empty(0, np.uint32)
        self._fresh = False
        return self._bitgen.random_raw(n).astype(np.uint32)

    def _random64(self, n: int) -> np.ndarray:
        """n calls of ``random64()``: ``(w0 << 32) | w1`` as uint64."""
        w = self._random(2 * n).astype(np.uint64)
        return (w[0::2] << _U64(32)) | w[1::2]

    def _uniform_f32(self, n: int) -> np.ndarray:
        """``uniform_real_distribution<float>(0, 1)``: ``(random() & (2**24 - 1)) * 2**-24``."""
        return (self._random(n) & _MASK24).astype(np.float32) * _F(2.0**-24)

    def _uniform_f64(self, n: int) -> np.ndarray:
        """``uniform_real_distribution<double>(0, 1)``: ``(random64() & (2**53 - 1)) * 2**-53``."""
        return (self._random64(n) & _MASK53).astype(np.float64) * 2.0**-53

    # -- distributions ----------------------------------------------------------------------

    def _uniform(self, shape, np_dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """``uniform_(low, high)``: ``fma(x, high - low, low)`` in op-math precision; ``high`` -> ``low``."""
        np_dtype = np.dtype(np_dtype)
        if not low <= high:
            raise RuntimeError(
                f"uniform_ expects to return a [from, to) range, but found from={low:g} > to={high:g}"
            )
        n = math.prod(shape)
        if np_dtype == np.float64:
            x = self._uniform_f64(n)
            out = x if (low, high) == (0.0, 1.0) else _chunked(_fma64, x, high - low, low)
        elif np_dtype in (np.float32, np.float16) or np_dtype.name == "bfloat16":
            x = self._uniform_f32(n)  # bfloat16, like half, draws float32 uniforms then rounds
            out = x if (low, high) == (0.0, 1.0) else _chunked(_fma32, x, _F(high) - _F(low), _F(low))
            out = out.astype(np_dtype)
        else:
            raise TypeError(f"uniform_ is only implemented for floating types, got {np_dtype}")
        to, frm = _cast(high, np_dtype), _cast(low, np_dtype)
        out[out == to] = frm  # rounding may land on `to`; torch returns `from` there to keep [from, to)
        return out.reshape(shape)

    def _normal(
        self, shape, np_dtype, mean: float = 0.0, std: float = 1.0, contiguous: bool = True
    ) -> np.ndarray:
        """``normal_(mean, std)``: Box-Muller fill for >= 16 contiguous elements, else scalar doubles."""
        np_dtype = np.dtype(np_dtype)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if np_dtype not in (np.float16, np.float32, np.float64) and np_dtype.name != "bfloat16":
            raise TypeError(f"normal_ is only implemented for floating types, got {np_dtype}")
        n = math.prod(shape)
        if n >= _NORMAL_FILL_MIN and contiguous:
            return self._normal_fill(n, np_dtype, mean, std).reshape(shape)
        return _cast(self._normal_scalar(n, mean, std), np_dtype).reshape(shape)

    def _normal_fill(self, n: int, np_dtype, mean: float, std: float) -> np.ndarray:
        """torch ``normal_fill``: 16-wide blocks; a ragged tail redoes the *last 16* with fresh uniforms."""
        tail = n % 16 != 0
        full = n // 16 * 16
        if np_dtype == np.float64:
            fill, uni = _normal_fill16_f64, self._uniform_f64
        else:
            fill, uni = _normal_fill16_f32, self._uniform_f32
        if np_dtype == np.float16 or np_dtype.name == "bfloat16":
            # half and bfloat16 go through a 16-float buffer per block: only the tail's 16 uniforms are extra
            blocks = _chunked(fill, uni(full + 16 * tail).reshape(-1, 16), mean, std)
            out = np.empty(n, np.float32)
            out[:full] = blocks[: full // 16].ravel()
            if tail:
                out[n - 16 :] = blocks[-1]
            return out.astype(np_dtype)
        # float and double first fill the whole tensor with uniforms (the tail's too, then discarded)
        u = uni(n)
        out = np.empty(n, u.dtype)
        out[:full] = _chunked(fill, u[:full].reshape(-1, 16), mean, std).ravel()
        if tail:
            out[n - 16 :] = fill(uni(16).reshape(1, 16), mean, std)[0]
        return out

    def _normal_scalar(self, n: int, mean: float, std: float) -> np.ndarray:
        """``normal_distribution<double>`` n times; Box-Muller's second value is cached in the generator."""
        out = np.empty(n, np.float64)
        i = 0
        if n and self._next_double_normal is not None:
            out[0], self._next_double_normal, i = self._next_double_normal, None, 1
        pairs = (n - i + 1) // 2
        u = self._uniform_f64(2 * pairs).tolist()
        for p in range(pairs):
            u1, u2 = u[2 * p], u[2 * p + 1]
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = 2.0 * math.pi * u1
            out[i] = r * math.cos(theta)
            i += 1
            if i < n:
                out[i] = r * math.sin(theta)
                i += 1
            else:
                self._next_double_normal = r * math.sin(theta)
        return _fma64(out, std, mean)  # val * std + mean, fused by the compiler

    def _randint(self, low: int, high: int, shape, np_dtype) -> np.ndarray:
        """``random_(low, high)``: ``word % (high - low) + low``; 64-bit words once the range is >= 2**28."""
        low, high = int(low), int(high)
        if low >= high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        n = math.prod(shape)
        span = high - low
        if span >= 1 << 64:  # [-2**63, 2**63): torch's full 64-bit kernel, random64() as int64
            v = self._random64(n).view(np.int64)
        else:
            w = self._random64(n) if span >= 1 << 28 else self._random(n).astype(np.uint64)
            v = ((w % _U64(span)) + _U64(low & 0xFFFFFFFFFFFFFFFF)).view(np.int64)  # wraps like uint64 in C++
        return _int_cast(v, np_dtype).reshape(shape)

    def _random_bits(self, shape, np_dtype) -> np.ndarray:
        """``random_()`` with no bounds: ``[0, 2**mantissa]`` for floats, ``[0, max]`` for integers."""
        np_dtype = np.dtype(np_dtype)
        n = math.prod(shape)
        if np_dtype == np.bool_:
            return (self._random(n) & 1).astype(np.bool_).reshape(shape)
        if np_dtype.kind == "f" or np_dtype.name == "bfloat16":
            digits = 8 if np_dtype.name == "bfloat16" else np.finfo(np_dtype).nmant + 1
            w = self._random64(n) if np_dtype == np.float64 else self._random(n).astype(np.uint64)
            return _int_cast((w % _U64((1 << digits) + 1)).view(np.int64), np_dtype).reshape(shape)
        top = int(np.iinfo(np_dtype).max) + 1
        w = self._random64(n) if np_dtype == np.int64 else self._random(n).astype(np.uint64)
        return (w % _U64(top)).astype(np_dtype).reshape(shape)

    def _randperm(self, n: int, np_dtype=np.int64) -> np.ndarray:
        """torch ``randperm_cpu``: Fisher-Yates, step i swaps positions i and ``i + random() % (n - i)``."""
        n = int(n)
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
        if n >= 0xFFFFFFFF // 20:
            # torch's inside-out shuffle with random64() for n >= ~2e8 (impractical here, kept for fidelity)
            z = (self._random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
            perm = list(range(n))
            for i in range(n):
                perm[i] = perm[z[i]]
                perm[z[i]] = i
            return np.array(perm, dtype=np_dtype)
        if n < 2:
            return np.arange(n, dtype=np_dtype)
        steps = np.arange(n, 1, -1, dtype=np.uint32)
        j = (self._random(n - 1) % steps).astype(np.int64) + np.arange(n - 1)
        return _fisher_yates(j).astype(np_dtype)

    def _bernoulli(self, p, shape, np_dtype) -> np.ndarray:
        """``bernoulli_(p)``: ``uniform < p``, double uniforms for a float p or float64 p, else float ones."""
        n = math.prod(shape)
        if isinstance(p, np.ndarray):
            pa = np.broadcast_to(p, shape).ravel()
            if np.any(~((pa >= 0) & (pa <= 1))):
                raise RuntimeError(
                    "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                    "be improved?  If so, please report an enhancement request to PyTorch.)"
                )
            if pa.dtype == np.float64:
                hit = self._uniform_f64(n) < pa
            else:
                hit = self._uniform_f32(n) < pa.astype(np.float32)
        else:
            p = float(p)
            if not 0.0 <= p <= 1.0:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
            hit = self._uniform_f64(n) < p
        return hit.astype(np_dtype).reshape(shape)

    def _exponential(self, shape, np_dtype, lambd: float = 1.0) -> np.ndarray:
        """``exponential_(lambd)``: ``-1 / lambd * log1p(-u)`` in double, u a double uniform."""
        np_dtype = np.dtype(np_dtype)
        if np_dtype.kind != "f" and np_dtype.name != "bfloat16":
            raise RuntimeError(
                "Exponential distribution is a continuous probability distribution. dtype must be a floating "
                f"point but you specified {np_dtype}"
            )
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
        u = self._uniform_f64(math.prod(shape))
        # glibc's log1p is FDLIBM's, ~1 ulp and FMA-compiled on x86-64: no cheap exact NumPy replay, so
        # it runs per element (~65 ns each), the one libm call that always does.
        return _cast((-1.0 / lambd) * _map(math.log1p, -u), np_dtype).reshape(shape)


def _fisher_yates(j: np.ndarray) -> np.ndarray:
    """The permutation left by swapping positions ``i`` and ``j[i] >= i`` for i = 0, 1, ..., without a loop.

    Step i fixes position i to what position ``j[i]`` held just before. That is the original ``j[i]``
    unless an earlier step t also targeted ``j[i]``; then it is what position t held before step t,
    which resolves the same way. These links form chains, resolved by pointer doubling.
    """
    n = len(j) + 1
    idx = np.arange(n, dtype=np.int64)
    j = np.append(j, n - 1)  # the last position "swaps" with itself
    key = np.sort((j << 32) | idx)  # steps grouped by target, in step order (n < 2**32)
    step, target = key & 0xFFFFFFFF, key >> 32
    same = target[1:] == target[:-1]
    prev = np.full(n, -1, np.int64)  # previous step with the same target
    prev[step[1:][same]] = step[:-1][same]
    last = np.full(n, -1, np.int64)  # last step targeting each position
    is_last = np.append(~same, True)
    last[target[is_last]] = step[is_last]
    link = np.where(last == idx, prev, last)  # last step before t that wrote position t
    root = np.where(link < 0, idx, link)
    todo = np.flatnonzero(link >= 0)
    while todo.size:
        up = root[root[todo]]
        moved = up != root[todo]
        root[todo] = up
        todo = todo[moved]
    return np.where(prev < 0, j, root[np.maximum(prev, 0)])


def _int_cast(v: np.ndarray, np_dtype) -> np.ndarray:
    """``static_cast<T>(int64)``: integers wrap, floats round (half goes through float, like c10::Half)."""
    np_dtype = np.dtype(np_dtype)
    if np_dtype == np.float16 or np_dtype.name == "bfloat16":
        return v.astype(np.float32).astype(np_dtype)
    return v.astype(np_dtype)


# torch seeds its global CPU generator from /dev/urandom at start-up (torch.initial_seed() differs per
# process); only torch.Generator() objects start from DEFAULT_SEED. We do the same.
default_generator = Generator()
default_generator.seed()


def manual_seed(seed) -> Generator:
    """Seed the default generator; ``int(seed)`` first, as ``torch.manual_seed`` does."""
    # torch.manual_seed also seeds every CUDA device; wire ember's CUDA generators in here when they exist.
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    """Reseed the default generator non-deterministically and return the seed."""
    # CUDA generators would be reseeded with the same value here, as torch.seed() does.
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state, a uint8 tensor (``torch.get_rng_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)
