"""Step commands, one module each; every module defines `register(app)` and is found automatically."""
