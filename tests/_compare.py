"""Compare two programs' printed output number by number (ember's against PyTorch's)."""

from __future__ import annotations

import re

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")
LOSS_LINE = re.compile(r"^\s*\d+\s+(?:tensor\()?\s*([-+\d.eE]+)\)?\s*$")


def _loss_scale(lines: list[str]) -> float:
    values = [abs(float(m.group(1))) for m in map(LOSS_LINE.match, lines) if m]
    return max(values, default=0.0)


def compare_outputs(ours: str, theirs: str, rel: float = 1e-4) -> None:
    """Same lines with the same words, and every number equal to ``rel`` relative.

    Two allowances, each for a difference float32 cannot resolve:
    - tensor reprs print 4 decimals, so a last-digit difference there passes;
    - a loss line ("step loss") also passes within 1e-6 of the run's largest loss (16 float32
      epsilons; the legacy Adam program drifts to 4.3e-7 of its peak mid-run with NumPy 2.4).
      When training drives a float32 loss from 1e7 towards 0, the residuals fall to the size of
      float32 rounding of the outputs, and two correct implementations (different BLAS summation
      orders) differ there by more than ``rel``: PyTorch's MKL and NumPy's OpenBLAS float32
      matmuls differ by 4e-7 relative per element on these programs.
    """
    a_lines, b_lines = ours.splitlines(), theirs.splitlines()
    assert len(a_lines) == len(b_lines), f"{len(a_lines)} lines vs torch's {len(b_lines)}"
    floor = 1e-6 * _loss_scale(b_lines)
    for la, lb in zip(a_lines, b_lines, strict=True):
        assert NUMBER.sub("#", la) == NUMBER.sub("#", lb), f"ember: {la!r}\ntorch: {lb!r}"
        atol = 2e-4 if "tensor(" in la or la.startswith(" ") else 1e-6
        if LOSS_LINE.match(lb):
            atol = max(atol if "tensor(" in la else 0.0, floor)
        for x, y in zip(NUMBER.findall(la), NUMBER.findall(lb), strict=True):
            a, b = float(x), float(y)
            assert abs(a - b) <= rel * max(abs(a), abs(b)) + atol, f"ember: {la!r}\ntorch: {lb!r}"
