"""embedtune: adapt a text embedding model to your own documents, prove it retrieves better, migrate safely."""

from embedtune.errors import EmbedtuneError, InputError

__version__ = "0.1.0"
__all__ = ["EmbedtuneError", "InputError", "__version__"]
