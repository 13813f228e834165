"""Data intake (数据汇联): reading the files communities have and mapping their columns.

This first slice is pure functions: readers (xlsx, xls, csv), cell normalisation and header
recognition. Nothing here writes to the database.
"""
