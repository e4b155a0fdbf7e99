"""Edit forensics: the edit script between copies, systematic edits, injections and seams, outlet fingerprints.

- `script.edit_script(source, copy, passages)`: word-level edits with exact raw offsets in both texts.
- `systematic.systematic_edits(edits, source, copy)` and `systematic.diff_pair(source, copy, passages)`: the
  edits an editor repeated, grouped through seams (kinds in `systematic`'s docstring).
- `edges.locate(...)`: where a copy's masthead, footer and lead are (used by `systematic`).
- `injections.find_injections(text)` and `injections.find_naming_inconsistencies(text)`: the same, from one text.
- `fingerprints.outlet_fingerprints(pairs_edits)`: the edits each outlet applies across its copies.
"""

from newstrace.edits.fingerprints import Fingerprint, Trait, outlet_fingerprints
from newstrace.edits.injections import NamingInconsistency, find_injections, find_naming_inconsistencies
from newstrace.edits.script import edit_script
from newstrace.edits.systematic import PairEdits, SystematicFinding, diff_pair, systematic_edits

__all__ = [
    "Fingerprint",
    "NamingInconsistency",
    "PairEdits",
    "SystematicFinding",
    "Trait",
    "diff_pair",
    "edit_script",
    "find_injections",
    "find_naming_inconsistencies",
    "outlet_fingerprints",
    "systematic_edits",
]
