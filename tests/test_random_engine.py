"""ember.random against torch's CPU generator: same bits, same state, in both directions."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember.random as er  # noqa: E402 - after the importorskip on purpose

SEEDS = [0, 1, 42, 2**40 + 3, None]  # None: a fresh Generator() (default seed) on both sides
TORCH_DTYPE = {
    np.float16: torch.float16,
    np.float32: torch.float32,
    np.float64: torch.float64,
    np.int8: torch.int8,
    np.int16: torch.int16,
    np.int32: torch.int32,
    np.int64: torch.int64,
    np.uint8: torch.uint8,
    np.bool_: torch.bool,
}
FLOATS = [np.float32, np.float64, np.float16]
SHAPES = [(), (1,), (15,), (16,), (17,), (1000,), (1001,), (3, 7), (2, 3, 8)]


def pair(seed):
    if seed is None:
        return torch.Generator(), er.Generator()
    return torch.Generator().manual_seed(seed), er.Generator().manual_seed(seed)


def assert_bits(t, e):
    """Same dtype, shape and bytes (so -0.0 vs 0.0 and NaN payloads count)."""
    a = t.numpy() if hasattr(t, "numpy") else np.asarray(t)
    assert a.dtype == e.dtype, (a.dtype, e.dtype)
    assert a.shape == e.shape, (a.shape, e.shape)
    if a.tobytes() != e.tobytes():
        bad = np.flatnonzero(a.reshape(-1).view(np.uint8) != e.reshape(-1).view(np.uint8))
        pytest.fail(
            f"{(a != e).sum()} of {a.size} differ, first byte {bad[0]}: {a.ravel()[:4]} vs {e.ravel()[:4]}"
        )


def assert_same_state(g, e):
    assert g.get_state().numpy().tobytes() == e.get_state().numpy().tobytes()


def ops(g, e):
    """(name, torch draw, ember draw) for a broad mix of calls."""
    out = []
    for shape in SHAPES:
        n = math.prod(shape)
        for dt in FLOATS:
            td = TORCH_DTYPE[dt]
            out += [
                (f"rand{shape}{dt.__name__}", lambda s=shape, d=td: torch.rand(s, generator=g, dtype=d),
                 lambda s=shape, d=dt: e._uniform(s, d)),
                (f"randn{shape}{dt.__name__}", lambda s=shape, d=td: torch.randn(s, generator=g, dtype=d),
                 lambda s=shape, d=dt: e._normal(s, d)),
                (f"normal_(0.3,2.5){shape}{dt.__name__}",
                 lambda s=shape, d=td: torch.empty(s, dtype=d).normal_(0.3, 2.5, generator=g),
                 lambda s=shape, d=dt: e._normal(s, d, 0.3, 2.5)),
                (f"normal_(0,0.02){shape}{dt.__name__}",
                 lambda s=shape, d=td: torch.empty(s, dtype=d).normal_(0, 0.02, generator=g),
                 lambda s=shape, d=dt: e._normal(s, d, 0.0, 0.02)),
                (f"uniform_(-3.7,1.3){shape}{dt.__name__}",
                 lambda s=shape, d=td: torch.empty(s, dtype=d).uniform_(-3.7, 1.3, generator=g),
                 lambda s=shape, d=dt: e._uniform(s, d, -3.7, 1.3)),
                (f"exponential_(1.7){shape}{dt.__name__}",
                 lambda s=shape, d=td: torch.empty(s, dtype=d).exponential_(1.7, generator=g),
                 lambda s=shape, d=dt: e._exponential(s, d, 1.7)),
                (f"bernoulli_(0.3){shape}{dt.__name__}",
                 lambda s=shape, d=td: torch.empty(s, dtype=d).bernoulli_(0.3, generator=g),
                 lambda s=shape, d=dt: e._bernoulli(0.3, s, d)),
            ]  # fmt: skip
        for lo, hi, dt in [
            (0, 10, np.int64),
            (-5, 5, np.int32),
            (0, 2**28 - 1, np.int64),  # last range on one 32-bit word
            (0, 2**28, np.int64),  # first range on random64()
            (0, 2**32 + 1, np.int64),
            (-(2**40), 2**41, np.int64),
            (0, 3, np.float32),
            (0, 2, np.bool_),
            (-(2**63), 2**63, np.int64),  # the full 64-bit kernel
        ]:
            out.append((
                f"random_({lo},{hi}){shape}{dt.__name__}",
                lambda s=shape, lo=lo, hi=hi, d=TORCH_DTYPE[dt]: torch.empty(s, dtype=d).random_(
                    lo, hi if hi < 2**63 else None, generator=g
                ),
                lambda s=shape, lo=lo, hi=hi, d=dt: e._randint(lo, hi, s, d),
            ))  # fmt: skip
        for dt, td in TORCH_DTYPE.items():
            out.append((f"random_(){shape}{dt.__name__}",
                        lambda s=shape, d=td: torch.empty(s, dtype=d).random_(generator=g),
                        lambda s=shape, d=dt: e._random_bits(s, d)))  # fmt: skip
        p = np.linspace(0.0, 1.0, n).reshape(shape)
        for pd in (np.float32, np.float64):
            out.append((f"bernoulli(p){shape}{pd.__name__}",
                        lambda p=p.astype(pd): torch.bernoulli(torch.from_numpy(p), generator=g),
                        lambda s=shape, p=p.astype(pd): e._bernoulli(p, s, p.dtype)))  # fmt: skip
    for n in (0, 1, 2, 5, 100, 20000):
        out.append((f"randperm({n})", lambda n=n: torch.randperm(n, generator=g), lambda n=n: e._randperm(n)))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_fresh_state_matches(seed):
    g, e = pair(seed)
    assert_same_state(g, e)
    assert e.initial_seed() == g.initial_seed()


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_sequence_bit_exact_and_in_sync(seed):
    """Every draw equal bit for bit, and the full state (words, position, normal cache) equal after each."""
    g, e = pair(seed)
    calls = ops(g, e)
    np.random.default_rng(seed or 7).shuffle(calls)  # a different interleaving per seed
    for name, draw_torch, draw_ember in calls:
        t, x = draw_torch(), draw_ember()
        try:
            assert_bits(t, x)
            assert_same_state(g, e)
        except AssertionError as err:
            raise AssertionError(f"{name}: {err}") from None


@pytest.mark.parametrize("seed", [0, 2**40 + 3])
@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (1.5, 0.25), (-3.0, 7.0)])
def test_large_normal_bit_exact(seed, dt, mean, std):
    """The 16-wide Box-Muller fill, including torch's AVX2 float32 log/sincos: 0 ulp apart."""
    g, e = pair(seed)
    n = 300_007  # ragged tail
    assert_bits(
        torch.empty(n, dtype=TORCH_DTYPE[dt]).normal_(mean, std, generator=g), e._normal((n,), dt, mean, std)
    )
    assert_same_state(g, e)


@pytest.mark.parametrize("dt", FLOATS)
def test_large_uniform_exponential_bit_exact(dt):
    g, e = pair(123)
    n = 200_000
    td = TORCH_DTYPE[dt]
    assert_bits(torch.rand(n, generator=g, dtype=td), e._uniform((n,), dt))  # half: 1.0 maps to 0.0
    assert_bits(
        torch.empty(n, dtype=td).uniform_(-1e3, 17.25, generator=g), e._uniform((n,), dt, -1e3, 17.25)
    )
    assert_bits(torch.empty(n, dtype=td).exponential_(0.5, generator=g), e._exponential((n,), dt, 0.5))
    assert_same_state(g, e)


def test_non_contiguous_normal_uses_scalar_path():
    g, e = pair(5)
    t = torch.empty(40, 2)[:, 0].normal_(0.5, 2.0, generator=g)
    assert_bits(t.contiguous(), e._normal((40,), np.float32, 0.5, 2.0, contiguous=False))
    assert_same_state(g, e)


def test_bernoulli_broadcast_p():
    g, e = pair(9)
    p = np.array([[0.1], [0.5], [0.9]], np.float32)
    t = torch.empty(3, 5).bernoulli_(torch.from_numpy(p), generator=g)
    assert_bits(t, e._bernoulli(p, (3, 5), np.float32))
    assert_same_state(g, e)


def test_dropout_mask_is_bernoulli_of_keep_prob():
    """F.dropout (training) = x * bernoulli_(1 - p) / (1 - p), on the global generator."""
    x = torch.randn(1000)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        out = torch.nn.functional.dropout(x, 0.3).numpy()
    mask = er.Generator().manual_seed(11)._bernoulli(0.7, (1000,), np.float32)
    np.testing.assert_array_equal(out, x.numpy() * (mask / np.float32(0.7)))


def test_interleaved_generators_stay_independent():
    g1, e1 = pair(1)
    g2, e2 = pair(2)
    for k in range(5):
        assert_bits(torch.randn(17 + k, generator=g1), e1._normal((17 + k,), np.float32))
        assert_bits(torch.randint(0, 7, (k,), generator=g2), e2._randint(0, 7, (k,), np.int64))
        assert_bits(torch.rand(3, generator=g2, dtype=torch.float64), e2._uniform((3,), np.float64))
    assert_same_state(g1, e1)
    assert_same_state(g2, e2)


def test_state_round_trip_torch_to_ember_and_back():
    g = torch.Generator().manual_seed(3)
    torch.randn(5, generator=g, dtype=torch.float64)  # leaves a cached Box-Muller value in the state
    torch.rand(700, generator=g)  # crosses a twist
    e = er.Generator().set_state(g.get_state())
    assert_same_state(g, e)
    for _ in range(3):
        assert_bits(torch.randn(3, generator=g), e._normal((3,), np.float32))  # uses the cache first
        assert_bits(torch.randperm(50, generator=g), e._randperm(50))
    # and back: torch continues from an ember state
    e._uniform((1234,), np.float32)
    g.set_state(torch.from_numpy(e.get_state().numpy()))
    assert_same_state(g, e)
    assert_bits(torch.randn(40, generator=g), e._normal((40,), np.float32))


def test_state_of_fresh_and_exhausted_engines():
    g, e = pair(0)
    assert_same_state(g, e)  # next = 0, left = 1: not twisted yet
    assert_bits(torch.randint(0, 2**20, (624,), generator=g), e._randint(0, 2**20, (624,), np.int64))
    assert_same_state(g, e)  # next = 624, left = 1: block used up
    e2 = er.Generator().set_state(g.get_state())
    assert_bits(torch.rand(5, generator=g), e2._uniform((5,), np.float32))
    assert_same_state(g, e2)
    fresh = er.Generator().set_state(torch.Generator().manual_seed(8).get_state())
    assert_same_state(torch.Generator().manual_seed(8), fresh)


def test_state_accepts_tensors_and_arrays_and_validates_like_torch():
    e = er.Generator()
    state = torch.Generator().manual_seed(4).get_state()
    e.set_state(state)  # anything with .numpy()
    e.set_state(state.numpy())
    with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size 5056 but found"):
        e.set_state(np.zeros(10, np.uint8))
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        e.set_state(np.zeros(5056, np.int32))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        e.set_state(np.zeros(5056, np.uint8))
    with pytest.raises(RuntimeError, match="RNG state must be contiguous"):
        e.set_state(np.zeros(10112, np.uint8)[::2])
    with pytest.raises(TypeError, match="expected a torch.ByteTensor"):
        e.set_state([1, 2])
    assert e.get_state().numpy().dtype == np.uint8
    assert e.get_state().shape == (5056,)


@pytest.mark.parametrize("seed", [0, -1, -(2**63), 2**63, 2**64 - 1, 2**32 + 5, np.int64(-7)])
def test_manual_seed_maps_like_torch(seed):
    g = torch.Generator().manual_seed(int(seed))
    e = er.Generator().manual_seed(seed)
    assert e.initial_seed() == g.initial_seed()
    assert_same_state(g, e)
    assert_bits(torch.rand(4, generator=g), e._uniform((4,), np.float32))


def test_manual_seed_errors_like_torch():
    e = er.Generator()
    for bad in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match="Overflow"):
            e.manual_seed(bad)
    for bad in (3.0, True):
        with pytest.raises(RuntimeError, match="manual_seed expected a long"):
            e.manual_seed(bad)
    assert e.manual_seed(5) is e


def test_seed_is_random_and_reported():
    e = er.Generator()
    s1, s2 = e.seed(), e.seed()
    assert s1 != s2
    assert e.initial_seed() == s2
    assert_same_state(torch.Generator().manual_seed(s2), e)


def test_module_level_default_generator():
    assert er.manual_seed(77) is er.default_generator
    assert er.initial_seed() == 77
    state = er.get_rng_state()
    assert state.numpy().tobytes() == torch.Generator().manual_seed(77).get_state().numpy().tobytes()
    a = er.default_generator._uniform((10,), np.float32)
    er.set_rng_state(state)
    np.testing.assert_array_equal(er.default_generator._uniform((10,), np.float32), a)
    assert er.seed() == er.initial_seed()


def test_argument_checks_like_torch():
    e = er.Generator()
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range"):
        e._uniform((3,), np.float32, 2.0, 1.0)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        e._normal((3,), np.float32, 0.0, -1.0)
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0"):
        e._exponential((3,), np.float32, 0.0)
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\]"):
        e._bernoulli(1.5, (3,), np.float32)
    with pytest.raises(RuntimeError, match="Expected p_in >= 0"):
        e._bernoulli(np.array([0.5, 2.0]), (2,), np.float32)
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        e._randint(5, 5, (3,), np.int64)


# -- internals the exactness rests on ------------------------------------------------------------


def test_emulated_fma_is_correctly_rounded():
    r = np.random.default_rng(0)
    a = r.standard_normal(3000) * np.exp2(r.integers(-30, 30, 3000))
    b = r.standard_normal(3000)
    c = r.standard_normal(3000) * np.exp2(r.integers(-60, 30, 3000))
    want = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c, strict=True)]
    np.testing.assert_array_equal(er._fma64(a, b, c), want)
    a32, b32, c32 = (v.astype(np.float32) for v in (a, b, c))
    exact = [
        Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        for x, y, z in zip(a32, b32, c32, strict=True)
    ]
    got = er._fma32(a32, b32, c32).astype(np.float64)
    for g_, x in zip(got, exact, strict=True):  # correctly rounded: no float32 is nearer
        lo, hi = (
            np.nextafter(np.float32(g_), np.float32(-np.inf)),
            np.nextafter(np.float32(g_), np.float32(np.inf)),
        )
        assert abs(Fraction(float(g_)) - x) <= min(abs(Fraction(float(lo)) - x), abs(Fraction(float(hi)) - x))


def test_vectorised_fisher_yates_matches_the_loop():
    r = np.random.default_rng(1)
    for n in (2, 3, 4, 10, 257, 5000):
        j = (r.integers(0, 2**32, n - 1) % np.arange(n, 1, -1)) + np.arange(n - 1)
        perm = list(range(n))
        for i, k in enumerate(j.tolist()):
            perm[i], perm[k] = perm[k], perm[i]
        np.testing.assert_array_equal(er._fisher_yates(j), perm)


def test_double_double_log_matches_libm():
    r = np.random.default_rng(2)
    x = np.concatenate(
        [1.0 - r.integers(0, 1 << 53, 200_000) * 2.0**-53, np.exp(r.uniform(-700, 700, 50_000))]
    )
    want = np.fromiter(map(math.log, x.tolist()), np.float64, x.size)
    np.testing.assert_array_equal(er._log_glibc(x), want)
