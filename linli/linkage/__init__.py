"""Linkage: find the same person across lists and the register."""
