"""ember.utils.data against torch.utils.data: the same seed must give the same batches, in order."""

from __future__ import annotations

import collections
import math
import random

import numpy as np
import pytest

import ember
from ember.utils import data as E

torch = pytest.importorskip("torch")
T = torch.utils.data
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")

X = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
Y = np.arange(23)


def plain(obj):
    """Tensors (either library) as (numpy array, dtype name), recursively; containers by type name."""
    if isinstance(obj, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(obj.dtype).replace("torch.", ""), obj.detach().numpy().tolist())
    if isinstance(obj, dict):
        return ("dict", {k: plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, [plain(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [plain(v) for v in obj])
    return obj


def both(make, seed=0):
    """Run ``make(lib, data_module)`` for torch then ember from the same global seed; return both results."""
    out = []
    for lib, mod in ((torch, T), (ember, E)):
        lib.manual_seed(seed)
        out.append(make(lib, mod))
    return out


def tensor_ds(lib, mod):
    return mod.TensorDataset(lib.tensor(X), lib.tensor(Y))


def epochs(loader, n=2):
    return [plain(list(loader)) for _ in range(n)]


# -- order and values vs torch ----------------------------------------------------------------------
LOADER_KW = [
    dict(batch_size=5),
    dict(batch_size=5, shuffle=True),
    dict(batch_size=5, shuffle=True, drop_last=True),
    dict(batch_size=23, shuffle=True),
    dict(batch_size=None),
    dict(batch_size=4, shuffle=True, num_workers=2),
    dict(batch_size=4, shuffle=True, num_workers=2, drop_last=True, prefetch_factor=1),
    dict(batch_size=4, shuffle=True, num_workers=3, persistent_workers=True),
]


@pytest.mark.parametrize("kw", LOADER_KW, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_loader_matches_torch(kw):
    t, e = both(lambda lib, mod: (epochs(mod.DataLoader(tensor_ds(lib, mod), **kw)), lib.rand(3).tolist()))
    assert e == t  # batches of both epochs, and the global generator's state afterwards


def test_loader_with_generator_matches_torch():
    def make(lib, mod):
        g = lib.Generator().manual_seed(123)
        loader = mod.DataLoader(tensor_ds(lib, mod), batch_size=6, shuffle=True, generator=g)
        return epochs(loader, 3), lib.rand(2).tolist(), g.initial_seed()

    t, e = both(make)
    assert e == t


@pytest.mark.parametrize(
    "make_sampler",
    [
        lambda lib, mod, ds: dict(sampler=mod.RandomSampler(ds, replacement=True, num_samples=70)),
        lambda lib, mod, ds: dict(
            sampler=mod.RandomSampler(ds, num_samples=50, generator=lib.Generator().manual_seed(5))
        ),
        lambda lib, mod, ds: dict(sampler=mod.SubsetRandomSampler([1, 4, 9, 16, 22, 3])),
        lambda lib, mod, ds: dict(sampler=mod.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6] * 3, 10)),
        lambda lib, mod, ds: dict(
            sampler=mod.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6] * 3, 10, replacement=False)
        ),
        lambda lib, mod, ds: dict(batch_sampler=mod.BatchSampler(mod.RandomSampler(ds), 4, drop_last=False)),
        lambda lib, mod, ds: dict(batch_sampler=[[0, 1], [5, 2, 7], [22]]),
    ],
    ids=[
        "random_replacement",
        "random_num_samples_gen",
        "subset_random",
        "weighted",
        "weighted_no_replacement",
        "batch_sampler",
        "batch_sampler_list",
    ],
)
def test_samplers_in_loader_match_torch(make_sampler):
    def make(lib, mod):
        ds = tensor_ds(lib, mod)
        extra = make_sampler(lib, mod, ds)
        kw = {} if "batch_sampler" in extra else dict(batch_size=3)
        return epochs(mod.DataLoader(ds, **kw, **extra)), lib.rand(2).tolist()

    t, e = both(make, seed=7)
    assert e == t


def test_sampler_objects_match_torch():
    t, e = both(
        lambda lib, mod: [
            list(mod.SequentialSampler(range(5))),
            list(mod.RandomSampler(range(40))),
            list(mod.RandomSampler(range(10), replacement=True, num_samples=100)),
            list(mod.BatchSampler(mod.SequentialSampler(range(10)), 3, drop_last=False)),
            list(mod.BatchSampler(range(10), 3, drop_last=True)),
            len(mod.BatchSampler(range(10), 3, drop_last=False)),
            len(mod.RandomSampler(range(10), num_samples=7)),
        ],
        seed=11,
    )
    assert e == t


def test_random_split_matches_torch():
    def make(lib, mod):
        a = [list(s) for s in mod.random_split(range(30), [10, 15, 5])]
        b = [
            list(s)
            for s in mod.random_split(range(11), [0.5, 0.3, 0.2], generator=lib.Generator().manual_seed(3))
        ]
        c = [len(s) for s in mod.random_split(range(7), [0.5, 0.5])]
        return a, b, c

    t, e = both(make, seed=2)
    assert e == t
    with pytest.raises(ValueError, match="Sum of input lengths"):
        E.random_split(range(5), [2, 2])


# -- workers ----------------------------------------------------------------------------------------
class RandomAugment:
    """A map-style dataset that draws from every RNG a worker seeds (as augmentations do)."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = (torch.utils.data if self.lib is torch else E).get_worker_info()
        wid = -1 if info is None else info.id
        return i, wid, self.lib.rand(2), random.random(), float(np.random.rand())


@pytest.mark.parametrize("workers", [0, 2])
def test_worker_seeding_matches_torch(workers):
    """Each worker seeds ember/torch, random and NumPy from base_seed + id exactly as torch does."""

    def make(lib, mod):
        loader = mod.DataLoader(RandomAugment(lib), batch_size=3, shuffle=True, num_workers=workers)
        return epochs(loader, 2)

    if workers == 0:  # the main process: seed python and numpy identically for both runs
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(1)
        t = epochs(T.DataLoader(RandomAugment(torch), batch_size=3, shuffle=True), 2)
        random.seed(0)
        np.random.seed(0)
        ember.manual_seed(1)
        e = epochs(E.DataLoader(RandomAugment(ember), batch_size=3, shuffle=True), 2)
    else:
        t, e = both(make, seed=1)
    assert e == t


def _init_fn(worker_id):
    info = E.get_worker_info() or T.get_worker_info()
    info.dataset.tag = f"w{worker_id}/{info.num_workers}"


class Tagged:
    tag = "main"

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return {"i": i, "tag": self.tag}


def test_worker_init_fn_and_worker_info():
    assert E.get_worker_info() is None
    batches = list(E.DataLoader(Tagged(), batch_size=2, num_workers=2, worker_init_fn=_init_fn))
    assert [b["tag"] for b in batches] == [["w0/2", "w0/2"], ["w1/2", "w1/2"], ["w0/2", "w0/2"]]
    assert [b["i"].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5]]


class Stream:
    """An iterable dataset that splits its range between workers (torch's documented recipe)."""

    def __init__(self, base):
        self.base, self.start, self.end = base, 3, 14

    def __iter__(self):
        info = (torch.utils.data if self.base is T.IterableDataset else E).get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = int(math.ceil((self.end - self.start) / info.num_workers))
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))


@pytest.mark.parametrize(
    "kw",
    [
        dict(batch_size=2),
        dict(batch_size=2, num_workers=2),
        dict(batch_size=3, num_workers=3, drop_last=True),
        dict(batch_size=None, num_workers=2),
    ],
)
def test_iterable_dataset_matches_torch(kw):
    def make(lib, mod):
        ds = type("S", (Stream, mod.IterableDataset), {})(mod.IterableDataset)
        return epochs(mod.DataLoader(ds, **kw))

    t, e = both(make)
    assert e == t


class Boom:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("missing sample 2")
        return i


@pytest.mark.parametrize("workers", [0, 2])
def test_dataset_errors_propagate(workers):
    loader = E.DataLoader(Boom(), batch_size=1, num_workers=workers)
    it = iter(loader)
    assert next(it).tolist() == [0]
    assert next(it).tolist() == [1]
    with pytest.raises(KeyError, match="missing sample 2"):
        next(it)


def test_early_break_shuts_workers_down():
    it = iter(E.DataLoader(range(100), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    workers = list(it._workers)
    del it
    assert not any(w.is_alive() for w in workers)


class Slow:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        import time  # noqa: PLC0415

        time.sleep(4)  # far longer than the timeout, even on a loaded machine
        return i


def test_timeout():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        next(iter(E.DataLoader(Slow(), num_workers=1, timeout=0.2)))


# -- collate -------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", "x y")


def _samples(lib):
    return [
        {
            "img": lib.full((2, 2), float(i)),
            "meta": (i, 0.5 * i, f"name{i}", [np.int32(i), np.float64(i) / 3]),
            "arr": np.arange(3, dtype=np.int16) + i,
            "pt": Point(i, np.float32(i)),
            "flag": np.bool_(i % 2),
        }
        for i in range(3)
    ]


def test_default_collate_matches_torch():
    assert plain(E.default_collate(_samples(ember))) == plain(T.default_collate(_samples(torch)))
    assert plain(E.default_collate([[1, 2], [3, 4]])) == plain(T.default_collate([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        E.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        E.default_collate([object()])


def test_default_convert_matches_torch():
    sample = {
        "a": np.arange(3),
        "b": (np.float32(2), "s"),
        "c": [np.ones((2, 2)), 5],
        "p": Point(np.int64(1), 2),
    }
    assert plain(E.default_convert(sample)) == plain(T.default_convert(sample))


def test_collate_fn_and_pin_memory_accepted():
    loader = E.DataLoader(range(7), batch_size=3, collate_fn=sum, pin_memory=False)
    assert list(loader) == [3, 12, 6]
    with pytest.warns(UserWarning, match="pin_memory"):
        assert [b.tolist() for b in E.DataLoader(range(4), batch_size=2, pin_memory=True)] == [[0, 1], [2, 3]]


# -- datasets ----------------------------------------------------------------------------------------
def test_datasets():
    ds = E.TensorDataset(ember.tensor(X), ember.tensor(Y))
    assert len(ds) == 23 and ds[4][1].item() == 4
    with pytest.raises(AssertionError, match="Size mismatch"):
        E.TensorDataset(ember.zeros(3), ember.zeros(4))
    cat = E.ConcatDataset([range(3), range(10, 14)])
    assert len(cat) == 7 and [cat[i] for i in range(-7, 7)] == [0, 1, 2, 10, 11, 12, 13] * 2
    assert cat.cumulative_sizes == [3, 7]
    sub = E.Subset(range(100), [5, 7, 9])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [5, 7, 9] and sub.__getitems__([2, 0]) == [9, 5]
    stack = E.StackDataset(a=range(3), b=range(10, 13))
    assert stack[1] == {"a": 1, "b": 11}
    assert E.StackDataset(range(3), range(3))[2] == (2, 2)

    class It(E.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chain = It(2) + It(3)
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    assert isinstance(ds + ds, E.ConcatDataset) and len(ds + ds) == 46
    assert (
        len(E.DataLoader(It(7), batch_size=3)) == 3
        and len(E.DataLoader(It(7), batch_size=3, drop_last=True)) == 2
    )


def test_loader_argument_errors():
    ds = range(5)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        E.DataLoader(ds, sampler=E.SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        E.DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        E.DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        E.DataLoader(ds, prefetch_factor=2)
    loader = E.DataLoader(ds, batch_size=2)
    assert len(loader) == 3
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        E.RandomSampler(ds, num_samples=0)


def test_random_draws_match_torch():
    """The seed draw RandomSampler and DataLoader rely on: random_() with no bounds, and randperm."""
    t, e = both(
        lambda lib, mod: (
            [lib.empty((), dtype=lib.int64).random_().item() for _ in range(3)] + lib.randperm(50).tolist()
        ),
        seed=9,
    )
    assert e == t
