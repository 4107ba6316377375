"""vidcurate: turn raw videos into a training-ready video-text dataset."""

__version__ = "0.1.0"
