# A stand-in for torch with the two classes the teye shim patches (tests only).
import torch.optim  # noqa: F401  (like torch, importing the package loads both)
import torch.utils.data  # noqa: F401
