"""Media I/O: probing, decoding, cutting and synthetic sample videos."""
