"""Executors: apply (error capture), scan (shared decode), local (process pool), ray (Ray Data)."""
