"""Benchmark workloads, written once against a torch-like module ``T`` (ember or torch).

Each workload is ``setup(T) -> step``: setup builds the data and model, ``step()`` runs one unit of
work. The same code runs on both libraries, so the ratio compares like with like.
"""

from __future__ import annotations

import math


def poly_autograd(T):
    """The seed's polynomial autograd step: 2000 points, 4 scalar weights, manual SGD update."""
    T.manual_seed(0)
    x = T.linspace(-math.pi, math.pi, 2000)
    y = T.sin(x)
    w = [T.randn((), requires_grad=True) for _ in range(4)]
    lr = 1e-6

    def step():
        a, b, c, d = w
        loss = (a + b * x + c * x**2 + d * x**3 - y).pow(2).sum()
        loss.backward()
        with T.no_grad():
            for p in w:
                p -= lr * p.grad
                p.grad = None

    return step


def poly_linear_rmsprop(T):
    """nn.Linear(3, 1) + Flatten on (x, x^2, x^3), MSELoss(sum), RMSprop."""
    T.manual_seed(0)
    x = T.linspace(-math.pi, math.pi, 2000)
    y = T.sin(x)
    xx = x.unsqueeze(-1).pow(T.tensor([1, 2, 3]))
    model = T.nn.Sequential(T.nn.Linear(3, 1), T.nn.Flatten(0, 1))
    loss_fn = T.nn.MSELoss(reduction="sum")
    opt = T.optim.RMSprop(model.parameters(), lr=1e-3)

    def step():
        loss = loss_fn(model(xx), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def dynamic_net_sgd(T):
    """The dynamic net (fixed at degree 5 so both libraries do the same work), SGD with momentum."""
    T.manual_seed(0)
    x = T.linspace(-math.pi, math.pi, 2000)
    y = T.sin(x)
    p = [T.nn.Parameter(T.randn(())) for _ in range(5)]
    loss_fn = T.nn.MSELoss(reduction="sum")
    opt = T.optim.SGD(p, lr=1e-8, momentum=0.9)

    def step():
        a, b, c, d, e = p
        out = a + b * x + c * x**2 + d * x**3
        for k in (4, 5):
            out = out + e * x**k
        loss = loss_fn(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def two_layer_adam(T):
    """Linear(1000, 100) - ReLU - Linear(100, 10) on a batch of 64, MSELoss(sum), Adam."""
    T.manual_seed(0)
    x = T.randn(64, 1000)
    y = T.randn(64, 10)
    model = T.nn.Sequential(T.nn.Linear(1000, 100), T.nn.ReLU(), T.nn.Linear(100, 10))
    loss_fn = T.nn.MSELoss(reduction="sum")
    opt = T.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _op(expr):
    def setup(T):
        T.manual_seed(0)
        env = {
            "T": T,
            "a": T.randn(100),
            "b": T.randn(100),
            "m": T.randn(64, 64),
            "big": T.randn(512, 512),
            "r": T.randn(100, requires_grad=True),
        }
        code = compile(expr, "<op>", "eval")
        return lambda: eval(code, env)  # noqa: S307 - fixed benchmark expressions

    setup.__doc__ = f"micro: {expr}"
    return setup


def chain_backward(T):
    """backward through a 10-op chain on 100 elements."""
    T.manual_seed(0)
    x = T.randn(100, requires_grad=True)

    def step():
        y = x
        for _ in range(5):
            y = (y * 1.01).sin()
        y.sum().backward()
        x.grad = None

    return step


def digits_epoch(T):
    """One training epoch of the digits CNN (examples/digits.py) at batch 64, float32: 1,438 random 8x8
    images through a shuffled DataLoader, CrossEntropyLoss, Adam (random pixels do the same work)."""
    T.manual_seed(0)
    x = T.rand(1438, 1, 8, 8)
    y = T.randint(0, 10, (1438,))
    nn = T.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, 10),
    )  # fmt: skip
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()
    opt = T.optim.Adam(model.parameters(), lr=2e-3)

    def step():
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()

    return step


def lstm_2layer(T):
    """Forward + backward of a 2-layer LSTM: seq 32, batch 16, input and hidden 128."""
    T.manual_seed(0)
    lstm = T.nn.LSTM(128, 128, num_layers=2)
    x = T.randn(32, 16, 128, requires_grad=True)

    def step():
        out, _ = lstm(x)
        out.sum().backward()
        lstm.zero_grad()
        x.grad = None

    return step


WORKLOADS = {
    "poly_autograd": poly_autograd,
    "poly_linear_rmsprop": poly_linear_rmsprop,
    "dynamic_net_sgd": dynamic_net_sgd,
    "two_layer_adam": two_layer_adam,
    "op_add": _op("a + b"),
    "op_mul_scalar": _op("a * 2.0"),
    "op_matmul_small": _op("m @ m"),
    "op_matmul_512": _op("big @ big"),
    "op_sum": _op("a.sum()"),
    "op_relu": _op("T.relu(a)"),
    "op_index": _op("m[3:10, 5]"),
    "chain_backward": chain_backward,
    "digits_epoch": digits_epoch,
    "lstm_2layer": lstm_2layer,
}
