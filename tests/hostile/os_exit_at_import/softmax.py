"""Hostile: os._exit(0) while softmax.py is imported."""

import os
os._exit(0)
