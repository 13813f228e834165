"""Linli 邻里 — grassroots community governance platform."""
