"""Edit forensics: the edit script between copies, systematic edits, injections and seams."""
