import torch
from torch.autograd import Variable

class DoubleLayerNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        # initialize 2 instances of nn.Linear mods
        super(DoubleLayerNet, self).__init__()
        self.linear1 = torch.nn.Linear(D_in, H)
        self.linear2 = torch.nn.Linear(H, D_out)

    def forward(self, x):
        # in this fxn we accept a Var of input data and
        # return a Var of output data.
        h_relu = self.linear1(x).clamp(min=0)
        y_pred = self.linear2(h_relu)
        return y_pred

# Next, again as usual, define batch size, input dimensions, hidden dimension and output dimension

N, D_in, H, D_out = 64, 1000, 100, 10

# Create some random tensors to hold both input and output

x = Variable(torch.randn(N, D_in))
y = Variable(torch.randn(N, D_out), requires_grad=False)

# Build model by instantiating class defined above
my_model = DoubleLayerNet(D_in, H, D_out)

# Build loss fxn and optimizer

criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(my_model.parameters(), lr=1e-4)

# and then we loop

for i in range(500):
    # fwd pass, calculate predicted y by passing x to the model
    y_pred = my_model(x)

    #calculate and print loss
    loss = criterion(y_pred, y)
    print(i, loss.item())

    # Zero gradients, performs a backprop pass and update the weights as it goe along
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
