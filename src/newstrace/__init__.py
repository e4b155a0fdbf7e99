"""newstrace: trace laundered news through text reuse, systematic edits, persuasion signals and outlet networks."""

from newstrace.model import Article, Passage

__version__ = "0.1.0"
__all__ = ["Article", "Passage", "__version__"]
