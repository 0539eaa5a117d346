__version__ = "0.1.0"
# The one place Impasto's version is written. pyproject.toml reads it (setuptools' dynamic
# version), and so do installer/build.py and installer/impasto.spec. The line above must stay
# first and in that exact form: installer/windows/impasto.iss reads it with Inno Setup's
# preprocessor, which cannot run Python.
