"""attn-grade: an exercise kit and autograder for transformer attention in NumPy."""

__version__ = "0.1.0"
