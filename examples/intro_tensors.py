"""The introductory notebook: creating tensors, simple operations, autograd, and a linear-regression toy."""

import numpy as np
import torch

torch.manual_seed(0)
print(torch.cuda.is_available())
print(torch.cuda.device_count())

# creating tensors
print(torch.ones(3, 2))
print(torch.zeros(3, 2))
print(torch.rand(3, 2))
print(torch.randn(3, 2))
print(torch.zeros_like(torch.empty(2, 2)))

# operations: function and operator forms agree
x = torch.ones(2, 2)
y = torch.ones(2, 2)
print(torch.mm(x, y))
print(x + y)
print(torch.add(x, y))

# requires_grad can be switched on after creation; numpy arrays keep their float64 dtype
x = torch.from_numpy(np.array([1.0, 2.0, 3.0]))
print(x.requires_grad_(True))

# a small graph: t = sum((x + 5)^2 + 1), so dt/dx = 2 (x + 5) = 12 at x = 1
x = torch.ones([3, 2], requires_grad=True)
y = x + 5
z = y * y + 1
t = torch.sum(z)
print(t)
t.backward()
print(x.grad)

# linear regression toy: learn y = 3 * sum(x) - 2 from fresh random samples each epoch
learning_rate = 0.01
epochs = 200
N = 10
w = torch.rand([N], requires_grad=True)
b = torch.ones([1], requires_grad=True)
print(w)
for i in range(epochs):
    x = torch.randn([N])
    y = torch.dot(3 * torch.ones([N]), x) - 2
    y_hat = torch.dot(w, x) + b
    loss = torch.sum((y_hat - y) ** 2)
    if i % 20 == 19:
        print(i, loss.item())
    loss.backward()
    with torch.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad
    w.grad.zero_()
    b.grad.zero_()
print(torch.mean(w).item(), b.item())
