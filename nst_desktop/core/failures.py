"""Kinds of failure that end a run, in a module without torch so the window can import it early.

Front ends choose their way forward (a smaller size, the CPU) from the kind, never by reading the
words of a message.
"""

OUT_OF_MEMORY = "out-of-memory"
DEVICE_LOST = "device-lost"
COMPUTATION = "computation"
