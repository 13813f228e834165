"""Row sets the reports app ships for capabilities that predate it (the register).

Capabilities built later put theirs in their own ``<app>/report_sources.py`` (found by
``ReportsConfig.ready()``), with the strings in their own catalogue.
"""
