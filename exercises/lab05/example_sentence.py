"""The example sentence of lab05. Generated from the lab spec: do not edit."""

import numpy as np

TOKENS = ["The", "animal", "didn't", "cross", "the", "street", "because", "it", "was", "too", "tired"]
