"""Kept so deployments that name ``linli.notify.sms.ConsoleSmsBackend`` keep working."""

from linli.notify.backends import ConsoleSmsBackend, FileSmsBackend

__all__ = ["ConsoleSmsBackend", "FileSmsBackend"]
