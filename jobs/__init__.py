"""RQ job functions and the worker / scheduler entry points."""
