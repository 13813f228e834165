"""The workbench (工作台) views, one module per area of work."""
