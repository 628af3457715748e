"""A small CNN learns scikit-learn's 8x8 handwritten digits (1,797 images, bundled: no download).

    python examples/digits.py                         # on PyTorch
    python -m ember run examples/digits.py            # the same file on ember
    python examples/digits.py --eval digits_out/digits_cnn.pt    # reload the checkpoint and test it

Conv-ReLU-MaxPool twice, then two Linear layers with dropout; CrossEntropyLoss and Adam, a shuffled
DataLoader, a fixed seeded split. Prints each epoch's mean loss and the held-out accuracy; writes the
loss curve and a grid of test digits with their predicted labels as PNGs, and the trained weights, to
``--out`` (default ``./digits_out``).

Needs scikit-learn (``pip install scikit-learn``); tqdm (progress bars) and matplotlib (plots) are
optional. Progress and file notes go to stderr, so stdout holds only the numbers that PyTorch and
ember must agree on.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def note(*args) -> None:
    print(*args, file=sys.stderr)


def load_data(seed: int, limit: int | None, test_fraction: float = 0.2):
    """(x_train, y_train, x_test, y_test): images (N, 1, 8, 8) scaled to [0, 1], int64 labels."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("examples/digits.py needs scikit-learn for its dataset: pip install scikit-learn")
    digits = load_digits()
    x = (digits.images / 16.0)[:, None]  # pixel values run 0..16
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))[:limit]  # a fixed split from the seed
    n_test = int(round(len(order) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),  # 32 x 8 x 8
        nn.ReLU(),
        nn.MaxPool2d(2),  # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1),  # 64 x 4 x 4
        nn.ReLU(),
        nn.MaxPool2d(2),  # 64 x 2 x 2
        nn.Flatten(),
        nn.Linear(256, 64),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(64, 10),
    )


def progress(iterable, desc: str):
    """A tqdm bar when tqdm is installed, else a one-line counter on stderr."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain_progress(iterable, desc)
    return tqdm(iterable, desc=desc, leave=False, file=sys.stderr)


def _plain_progress(iterable, desc: str):
    total = len(iterable)
    for i, item in enumerate(iterable, 1):
        yield item
        print(f"\r{desc}: {i}/{total}", end="" if i < total else "\r" + " " * 40 + "\r", file=sys.stderr)


def train(model, loader, epochs: int, lr: float) -> list[float]:
    """Adam on cross-entropy; prints each epoch's mean loss; returns every step's loss."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        bar = progress(loader, f"epoch {epoch}/{epochs}")
        for xb, yb in bar:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            total += losses[-1] * len(yb)
            count += len(yb)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        # six decimals: the output test compares numbers to a relative 1e-4, so more digits is safer
        print(f"epoch {epoch:2d}  loss {total / count:.6f}")
    return losses


def evaluate(model, x, y, dtype) -> np.ndarray:
    """Print the held-out accuracy; return the predicted labels."""
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x).to(dtype)).argmax(1).numpy()
    correct = int((pred == y).sum())
    print(f"test accuracy {100.0 * correct / len(y):.2f}% ({correct}/{len(y)})")
    return pred


def save_plots(out: str, losses: list[float], x, y, pred) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no window
        import matplotlib.pyplot as plt
    except ImportError:
        note("matplotlib is not installed: skipping the PNGs (pip install matplotlib)")
        return
    if losses:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(losses, lw=1)
        ax.set(xlabel="step", ylabel="cross-entropy loss", yscale="log", title="digits CNN: training loss")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "loss_curve.png"), dpi=100)
        plt.close(fig)
        note(f"wrote {os.path.join(out, 'loss_curve.png')}")
    rows, cols = 4, 8
    order = np.argsort(pred == y, kind="stable")  # the mistakes first
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3))
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, order, strict=False):  # fewer digits than cells with a small --limit
        img, label, guess = x[i], y[i], pred[i]
        ax.imshow(img[0], cmap="gray_r")
        ax.set_title(str(guess), color="green" if guess == label else "red")
    fig.suptitle("test digits, mistakes first: predicted label (red = wrong)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "predictions.png"), dpi=100)
    plt.close(fig)
    note(f"wrote {os.path.join(out, 'predictions.png')}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Train (or --eval) a small CNN on scikit-learn's digits.")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use only this many images (quick runs)")
    p.add_argument("--out", default="digits_out", help="folder for the PNGs and the checkpoint")
    p.add_argument("--eval", metavar="CHECKPOINT", help="load these weights and evaluate; no training")
    # NOTE: float64 by default so that PyTorch and ember print the same digits. Their float32 sums
    # differ in the last bit (different BLAS orders); now and then that flips a max-pool's choice,
    # and training amplifies the flip until later epochs differ in the third digit. Both are right.
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    dtype = getattr(torch, args.dtype)
    x_train, y_train, x_test, y_test = load_data(args.seed, args.limit)
    print(f"digits: {len(y_train)} train / {len(y_test)} test images of 8x8")
    model = make_model().to(dtype)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    losses = []
    if args.eval:
        model.load_state_dict(torch.load(args.eval))
    else:
        print(model)
        data = TensorDataset(torch.from_numpy(x_train).to(dtype), torch.from_numpy(y_train))
        loader = DataLoader(data, batch_size=args.batch_size, shuffle=True)
        losses = train(model, loader, args.epochs, args.lr)
    pred = evaluate(model, x_test, y_test, dtype)
    note(f"{'evaluated' if args.eval else 'trained and evaluated'} in {time.perf_counter() - start:.1f} s")
    save_plots(args.out, losses, x_test, y_test, pred)
    if not args.eval:
        path = os.path.join(args.out, "digits_cnn.pt")
        if hasattr(torch, "save"):
            torch.save(model.state_dict(), path)
            note(f"wrote {path} (evaluate it with: --eval {path})")
        else:
            note("this torch has no save(): skipping the checkpoint")


if __name__ == "__main__":
    main()
