"""Model plumbing shared by the model ops: offline weight resolution, device/dtype choice, CLIP loading.

Nothing here imports torch or transformers at module level, so `vidcurate --help` stays fast; every
heavy import happens inside the functions that need it, once the op's `setup()` runs.
"""
