"""The one-layer cubic fit, with RMSprop doing the updates."""

import math

import torch

torch.manual_seed(0)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
# 1000 steps, not the tutorial's 2000: RMSprop divides each gradient by its running RMS, so once the
# bias gradient (2000 residuals that nearly cancel) is down to rounding noise, the noise sets
# full-size steps, and any change in summation order (NumPy's vs PyTorch's kernels, or PyTorch on
# another CPU) sends the bias elsewhere. Up to here every implementation agrees.
for t in range(1000):
    loss = loss_fn(model(xx), y)
    if t % 100 == 99:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

linear_layer = model[0]
print(
    f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
    f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3"
)
