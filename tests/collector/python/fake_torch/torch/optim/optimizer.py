class Optimizer(object):
    def __init__(self):
        self.steps = 0

    def step(self):
        raise NotImplementedError


class SGD(Optimizer):
    def step(self):
        """One step."""
        self.steps += 1
        return self.steps
