"""lit_math: mathematics as translation, with PyTorch Lightning."""

__version__ = "0.1.0"
