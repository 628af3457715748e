"""Run a program after seeding torch's generator: ``python _seeded.py PROGRAM`` (torch or ember)."""

import runpy
import sys

import torch

torch.manual_seed(0)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
