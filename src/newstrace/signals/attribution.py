"""Attributions: who says each claim — a named source, an anonymous one, or nobody.

Rules over `newstrace.tokens` words (lower-cased, quote-folded) with raw offsets, plus the raw text between words
for punctuation. No model, no tagger: lexicons of reporting cues and source nouns, and a few shapes:

- ``X said`` / ``X has warned that`` / ``X, who ..., said``: the source is the clause-initial noun phrase
  before the cue;
- ``said X`` after a quote or at a clause start, and ``according to X``: the source follows the cue;
- ``many believe``, ``led many to believe``, ``investigators who believe``, ``people who are older say``: a
  quantifier, a causative's object, or the noun phrase before a restrictive "who" is the source;
- ``claims by some``, ``amid reports that ...``: a claim noun with its source after "by"/"from", or an unnamed
  document before a "that" clause;
- ``“...,” he said``: a pronoun source takes the kind of an earlier attribution, "they" that of the nearest group
  (see `_resolve`);
- agentless passives (``has long been accused``, ``is believed to``, ``it is reported that``) and hedges
  (``reportedly``, ``alleged``): ``unattributed`` with no source; ``reported by Reuters`` takes its agent instead;
- a factual sentence carrying none of the above is a claim with no source at all: an ``unattributed`` Attribution
  whose cue is None and whose span is the sentence (see `is_factual` for what counts as factual).

Headlines carry no attributions here: they are not sentences of the article's body (see `is_heading`).

The kind of a source phrase (`classify_source`): ``anonymous`` when its head is a generic source noun (sources,
officials, analysts, witnesses, a spokesman ...) with no personal name attached; ``named`` when it holds a proper name
or an organisation ("the Pentagon", "the US defense department", "the government"); a bare pronoun or a definite
description ("the cardinal") refers back and takes the kind of its antecedent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newstrace.model import Attribution
from newstrace.tokens import Tokens, tokenize

NAMED, ANONYMOUS, UNATTRIBUTED = "named", "anonymous", "unattributed"


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


# Reporting verbs, every inflection listed so matching is a set lookup on the token.
CUE_VERBS = _words("""say says said saying tell tells told telling report reports reported reporting believe
believes believed confirm confirms confirmed confirming warn warns warned warning stated add adds added adding
claim claims claimed claiming announce announces announced reveal reveals revealed note notes noted explain
explains explained argue argues argued arguing insist insists insisted write writes wrote tweet tweets tweeted
acknowledge acknowledges acknowledged admit admits admitted concede concedes conceded deny denies denied suggest
suggests suggested assert asserts asserted allege alleges alleged estimate estimates estimated predict predicts
predicted testify testifies testified declare declares declared emphasize emphasizes emphasized emphasise
emphasised stress stresses stressed comment commented remark remarked complain complains complained recall recalls
recalled contend contends contended maintain maintains maintained indicate indicates indicated conclude concludes
concluded accuse accuses accused disclose discloses disclosed vow vows vowed boast boasts boasted lament laments
lamented mention mentions mentioned reiterate reiterates reiterated describe describes described speculate
speculates speculated speculating joked observed observes continued continues think thinks thought fear fears
feared decried decries criticized criticised deem deems deemed describing""")
# Forms more often nouns ("similar reports", "his claims"): a cue only right after a name, a source noun or pronoun.
_NOUNLIKE = _words("reports claims notes fears thought comments estimates tweets")
# Verbs that report only when a complement follows: "that", a quote, a colon, or a subject-like word.
_NEEDS_CLAUSE = _words("""believe believes believed fear fears feared maintain maintains maintained add adds added
note notes noted indicate indicates indicated suggest suggests suggested recall recalls recalled conclude concludes
concluded estimate estimates estimated predict predicts predicted mention mentions mentioned speculate speculates
speculated think thinks thought""")
# Verbs with a common non-reporting sense ("admitted him into the country", "declared an outbreak", "time will
# tell"): a cue only before "that", "to", a quote or a colon.
_NEEDS_THAT = _words("""admit admits admitted acknowledge acknowledges acknowledged concede concedes conceded
declare declares declared describe describes described confirm confirms confirmed announce announces announced
reveal reveals revealed""")
_TELL = _words("tell tells told telling")
_THINK = _words("think thinks thought")
_COGNITION = _words("believe believes believed think thinks thought fear fears feared")
# Verbs that may precede their subject: '“...,” said the official'.
_INVERTIBLE = _words("""say says said add adds added write wrote writes warned warns explained explains insisted
noted notes claimed continued recalled tweeted observed stressed stated reported""")
# Verbs that report only at the end of a clause, after a quote: '..., Ambellas continued.'
_ONLY_AFTER_QUOTE = _words("continued continues observes observed joked")
# "the Pentagon issued a report": a publishing verb with a document object is a cue.
_ISSUE_VERBS = _words("issued issues issue released releases published publishes")
_DOCUMENTS = _words("report statement communique communiqué study paper memo memorandum assessment alert edict")

# Auxiliaries and adverbs that belong to the cue group ("has long warned", "was quoted as saying").
_CUE_AUX = _words("""has have had is are was were be been would will could may might did does do also recently
previously later repeatedly once long then further again publicly privately openly particularly already just often
now first""")
_NEGATION = _words("not never n't doesn't don't didn't hasn't haven't hadn't wasn't weren't isn't aren't won't cannot")

ANON_PLURAL = _words("""sources officials analysts experts witnesses observers pundits insiders critics diplomats
residents reports people locals commentators scientists researchers studies media activists eyewitnesses
authorities investigators specialists scholars economists rumors rumours others americans citizens campaigners
opponents supporters lawmakers aides victims families employees workers staffers personnel agents generations
accusers neighbours neighbors""")
ANON_SINGULAR = _words("""source official analyst expert witness observer pundit insider critic diplomat resident
spokesman spokeswoman spokesperson member aide commentator scientist researcher study report eyewitness activist
investigator someone somebody lawmaker person man woman worker employee staffer brother sister son daughter father
mother wife husband neighbor neighbour friend relative lawyer attorney victim teen""")
ANON_HEADS = ANON_PLURAL | ANON_SINGULAR
# Heads that quantify: "a team of experts", "one of the victims" take the kind of the noun after "of".
_QUANT_HEADS = _words("team group number panel majority handful some one many most all several none few")
_INDEFINITE = _words("a an some many most several one few other multiple two three four numerous")
# Document heads: anonymous on their own ("the latest reports"), named with a named origin ("a report by the AP").
_DOC_HEADS = _words("""report reports study studies data research results findings documents records
translation remarks statement timeline analysis survey poll""")
ORG_WORDS = _words("""government ministry department pentagon police army military agency commission council
committee parliament congress senate court embassy administration office company corporation bureau organization
organisation institute university union party kremlin presidency cabinet foundation center centre network newspaper
channel service services directorate command website paper magazine""")
TITLE_WORDS = _words("""mr mrs ms dr col gen lt sgt capt maj gov sen rep rev prof president minister director
chairman chairwoman chief secretary ambassador senator governor mayor general colonel captain king prince queen
sheikh ayatollah pope judge commander admiral premier inspector archbishop bishop cardinal caliph""")
# Lower-case heads of a definite description that can stand for a speaker named earlier ("the cardinal said").
_PERSON_HEADS = TITLE_WORDS | ANON_HEADS | ORG_WORDS | _words("""congressman congresswoman professor theologian
author writer journalist reporter lawmakers senators leader""")
_PRONOUNS = _words("he she they it")
_FIRST_PERSON = _words("i we you i'll i've i'd i'm we'll we've we'd we're you'll")
_DETERMINERS = _words("""the a an this that these those his her their its our some many most several other such
one two three four few all both each local no any every""")
_PREPOSITIONS = _words("""in of from at for with on by near inside within across among about to into over under
around during after before than like despite regarding concerning amid""")
# A cue word right after one of these is a noun or an adjective: "the reports", "each confirmed case", "for fear".
_NOT_AFTER = _PREPOSITIONS | _DETERMINERS | _words("""his her their its our my your similar various latest new
every each no any unnamed said""")
# Words that end a backward walk: the subject of a cue never reaches past a conjunction or complementiser.
_CLAUSE_STOPS = _words("""that which who whom whose while but and or because as if when after before since although
though where whereas so yet then nor than until unless whether""")
_TIME_WORDS = _words("""last this next on in yesterday today tonight monday tuesday wednesday thursday friday saturday
sunday january february march april may june july august september october november december week month year
morning evening night earlier recently""")

# Quantifier pronouns that can be a whole subject: "many believe", "some say", "others argue".
_QUANT_SUBJECTS = _words("many some most several few others")
# "leads many to believe", "prompting experts to speculate": the object of a causative verb holds the belief.
_TO_COGNITION = _words("believe think suspect speculate conclude")
_DESCRIBE = _words("describe describes described describing")
# "one source calling the man a 'mystery'": calling someone something, not calling for or on them.
_CALL = _words("call calls called calling")
_CALL_PARTICLES = _words("for on off in up out back to into upon it")
# Nouns of claims and reports that name their source after "by"/"from" ("claims by some", "reports from Kabul
# officials") or stand alone as an unnamed document before a "that" clause ("reports that the army ...").
_CLAIM_NOUNS = _words("claims reports allegations accusations rumors rumours warnings remarks assertions")
_UNNAMED_DOC_NOUNS = _words("reports rumors rumours")
_POSSESSIVES = _words("his her their its our my your")
# Prepositions after a document head that introduce its origin ("a report by the AP", "remarks from an official");
# others ("a timeline regarding Campos") introduce its topic, whose names say nothing about the source.
_ORIGIN_PREPS = _words("by from of in at")

_PASSIVE_BE = _words("is are was were be been being 's")
# Participles of agentless reporting passives; the second set needs "to"/"that" after ("is believed to").
_PASSIVE_ANY = _words("accused alleged claimed rumored rumoured suspected reported considered told")
_PASSIVE_TO = _words("""believed thought expected said known understood estimated feared presumed assumed reputed
found determined""")
_HEDGES = _words("reportedly allegedly purportedly supposedly ostensibly alleged")

_BOUNDARY = re.compile(r"[,;:\[\]\"“”«»—–]|(?<!\w)['‘’]|['‘’](?!\w)| - ")
_FWD_BOUNDARY = re.compile(r"[,;:()\[\]\"“”«»—–]|(?<!\w)['‘’]|['‘’](?!\w)| - ")
_CLOSING_ONLY = re.compile(r"[\"”’']\s*")
_CLOSE_QUOTES = "\"”»’'"
_AFTER_QUOTE = re.compile(r"[,.!?:…]\s*[\"”’']?\s*$|^\s*[\"”’']\s*$")

# Abbreviations that end in a period but not a sentence.
_ABBREV = _words("""mr mrs ms dr col gen lt sgt capt maj gov sen rep rev st jr sr prof inc co corp ltd no vs etc jan
feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e fig approx dept est""")
LOOKBACK = 64  # longer than any abbreviation in _ABBREV
_SENT_END = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    first: int  # index of the first word token in the sentence
    last: int  # index one past the last word token


def split_sentences(text: str, toks: Tokens | None = None) -> list[Sentence]:
    """Sentences as raw spans: every line is split on terminal punctuation, skipping abbreviations and initials."""
    toks = toks if toks is not None else tokenize(text)
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pos, base, s = line.start(), line.start(), line.group()
        for m in _SENT_END.finditer(s):
            # Only the word before the stop matters (an abbreviation or an initial): look back a few characters,
            # not to the line's start, which made a long one-line text quadratic.
            before = re.search(r"([\w.]+)\.+$", s[max(0, m.start() - LOOKBACK) : m.start() + 1])
            word = before.group(1).lower() if before else ""
            if s[m.start()] == "." and (word in _ABBREV or (len(word) == 1 and word.isalpha())):
                continue
            spans.append((pos, base + m.end()))
            pos = base + m.end()
        spans.append((pos, line.end()))
    out: list[Sentence] = []
    k = 0
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a >= b:
            continue
        while k < len(toks) and toks.starts[k] < a:
            k += 1
        first = k
        while k < len(toks) and toks.ends[k] <= b:
            k += 1
        out.append(Sentence(a, b, first, k))
    return out


def is_heading(text: str, sent: Sentence) -> bool:
    """A title, subhead, byline or credit: a line with no terminal punctuation and under 12 words, or a line in
    which most words are capitalised (headline case)."""
    seg = text[sent.start : sent.end]
    tail = seg.rstrip(_CLOSE_QUOTES + ") ")
    n = sent.last - sent.first
    if (not tail or tail[-1] not in ".!?:;,…") and n < 12:
        return True
    at_line_start = sent.start == 0 or text[sent.start - 1] == "\n"
    if not at_line_start or tail.endswith("."):
        return False  # settled before the words are counted: most sentences of a body end in a full stop
    words = re.findall(r"[^\W\d_][\w'’-]*", seg)
    caps = sum(w[0].isupper() for w in words if len(w) > 3)
    return caps >= 0.8 * max(1, sum(len(w) > 3 for w in words))


def is_factual(text: str, toks: Tokens, sent: Sentence) -> bool:
    """Whether a sentence asserts something that could rest on a source.

    A factual sentence is declarative — not a heading (see `is_heading`), not a question or an exclamation — with at
    least 5 words, and carries a checkable anchor: a number, a proper name after its first word, or a finite verb
    of being/having/doing or a past-tense "-ed" form. Opinion and rhetoric phrased as statements still count:
    without a parser we cannot tell them apart, and they are exactly the claims a reader should see unsourced.
    """
    n = sent.last - sent.first
    if n < 5 or is_heading(text, sent):
        return False
    tail = text[sent.start : sent.end].rstrip(_CLOSE_QUOTES + ") ")
    if tail.endswith(("?", "!")):
        return False
    words = toks.words[sent.first : sent.last]
    if any(w[0].isdigit() for w in words):
        return True
    if any(_is_cap(text, toks, i) for i in range(sent.first + 1, sent.last)):
        return True
    finite = {"is", "are", "was", "were", "has", "have", "had", "will", "did", "does", "can", "could"}
    return any(w in finite or (len(w) > 4 and w.endswith("ed")) for w in words)


# --------------------------------------------------------------------------------------------- source phrases


def _is_cap(text: str, toks: Tokens, i: int) -> bool:
    """A capitalised word that is not a capitalised function word ("With", "The" at a sentence start)."""
    return text[toks.starts[i]].isupper() and toks.words[i] not in _FUNCTION


_FUNCTION = _DETERMINERS | _PREPOSITIONS | _CLAUSE_STOPS | _PRONOUNS | _FIRST_PERSON | _QUANT_HEADS


def _gap(text: str, toks: Tokens, i: int) -> str:
    """Raw text between word i-1 and word i."""
    if i >= len(toks):
        return text[toks.ends[-1] :] if toks.ends else text
    return text[toks.ends[i - 1] : toks.starts[i]] if i > 0 else text[: toks.starts[0]]


def _boundary(gap: str) -> bool:
    return bool(_BOUNDARY.search(gap))


def classify_source(text: str, toks: Tokens, a: int, b: int) -> str | None:
    """Kind of the source phrase words[a:b]: named, anonymous, or None when it only refers back (pronoun, "the man")."""
    words = toks.words[a:b]
    if not words:
        return None
    if len(words) == 1 and words[0] in _PRONOUNS:
        return None
    # A capitalised run at the end after a role, organisation or title word is a person's name:
    # "a member of the People's Council Ammar Assad", "spokesman John Kirby".
    run = b
    while run > a and _is_cap(text, toks, run - 1) and not _boundary(_gap(text, toks, run)):
        run -= 1
    run_words = toks.words[run:b]
    if b - run >= 2 and (
        any(w in TITLE_WORDS for w in run_words)
        or any(w in ORG_WORDS for w in run_words[:-1])
        or (run > a and toks.words[run - 1] in ANON_HEADS | TITLE_WORDS)
    ):
        return NAMED
    # The head is the last word before the first preposition: "sources in Syria", "US officials", "a team of experts".
    h = a
    while h < b and words[h - a] not in _PREPOSITIONS:
        h += 1
    head_i = h - 1
    while head_i > a and words[head_i - a] in _POSTMOD:  # "people familiar with the matter"
        head_i -= 1
    if head_i >= a and words[head_i - a] in _QUANT_HEADS and h < b and words[h - a] == "of":
        k = h + 1
        while k < b and words[k - a] not in _PREPOSITIONS:
            k += 1
        head_i, h = k - 1, k
    head = words[head_i - a] if head_i >= a else ""
    caps_before = any(_is_cap(text, toks, i) for i in range(a, max(head_i, a)))
    caps_after = any(_is_cap(text, toks, i) for i in range(h, b))
    if head in _DOC_HEADS:
        # "a report by the Associated Press", "data from NASA's Spaceweather", "the Tagespost report": named by
        # their origin; "remarks from a senior official" is as anonymous as the official.
        if caps_before:
            return NAMED
        if h < b - 1 and words[h - a] in _ORIGIN_PREPS:
            return classify_source(text, toks, h + 1, b) or ANONYMOUS
        return ANONYMOUS
    if head in ANON_HEADS:
        return ANONYMOUS
    if head_i >= a and _is_cap(text, toks, head_i) or caps_before:
        return NAMED
    if head in TITLE_WORDS and words[0] in _INDEFINITE:
        return ANONYMOUS  # "a senior commander"
    if head in ORG_WORDS or any(w in ORG_WORDS for w in words):
        return NAMED
    if caps_after:
        return NAMED
    if words[0] in _INDEFINITE:
        return ANONYMOUS
    return None


_POSTMOD = _words("familiar close involved aware knowledgeable briefed speaking")


def _head_word(words: list[str]) -> str:
    head = ""
    for w in words:
        if w in _PREPOSITIONS:
            break
        if w not in _POSTMOD:
            head = w
    return head if words and words[0] not in _PREPOSITIONS else ""


def _resolve(kind: str | None, pronoun: str, previous: list[Attribution]) -> str:
    """The kind of a source that refers back: the nearest earlier attribution with a source, skipping plural
    anonymous ones ("sources", "officials") for "he"/"she"; with no antecedent, named (a pronoun points at someone
    specific)."""
    if kind is not None:
        return kind
    sourced = [p for p in previous if p.kind in (NAMED, ANONYMOUS)]
    if pronoun == "they":
        # "they" points at a group or an organisation, not at the single person quoted last.
        for att in reversed(sourced[-4:]):
            src = (att.source or "").split()
            head = _head_word([w.lower() for w in src])
            if head in ANON_PLURAL | ORG_WORDS | {"they"} or (
                head.endswith("s") and len(head) > 3 and not src[-1][:1].isupper()
            ):
                return att.kind
    if pronoun in {"he", "she"}:
        for att in reversed(sourced[-4:]):
            head = _head_word((att.source or "").lower().split())
            if att.kind == NAMED or head not in ANON_PLURAL:
                return att.kind
    return sourced[-1].kind if sourced else NAMED


def _back_source(text: str, toks: Tokens, sent: Sentence, i: int) -> tuple[int, int]:
    """Words [a, b) of the clause-initial subject before the cue group starting at word i."""
    words = toks.words

    def transparent(j: int) -> bool:
        # A closing quote glued to a word is part of the phrase: 'multiple credible sources” told her'.
        g = _gap(text, toks, j)
        return not _boundary(g) or bool(_CLOSING_ONLY.fullmatch(g) and g[:1] in _CLOSE_QUOTES)

    j = i
    while j > sent.first and transparent(j) and words[j - 1] not in _CLAUSE_STOPS:
        j -= 1
    a, b = j, i
    # Trim time adverbials that sit between subject and verb ("... in Afghanistan last September", "on Friday").
    while b - a > 1 and words[b - 1] in _TIME_WORDS and not _is_cap(text, toks, b - 1):
        b -= 1
    while b - a > 2 and words[b - 2] in {"last", "this", "next", "on", "in", "early", "late"} and (
        words[b - 1] in _TIME_WORDS
    ):
        b -= 2
    # "X, who ..., said", "X, a spokesman for Y, said", "X, the ... director, stated": step back over
    # comma-bounded appositions and relative clauses to the name they describe.
    if a > sent.first and "," in _gap(text, toks, a) and (a == b or words[a] in _APPOS_START):
        end_ = a
        for _ in range(3):
            p = _chunk_start(text, toks, sent, end_)
            if p >= end_:
                break
            if _is_cap(text, toks, p) and words[p] not in _APPOS_START | _TIME_WORDS and end_ - p <= 6:
                # "Yonathan Halimi, Sarah's son, describes": a role chunk after a name chunk is its apposition.
                q = _chunk_start(text, toks, sent, p) if p > sent.first and "," in _gap(text, toks, p) else p
                if q < p and words[end_ - 1] in _PERSON_HEADS and p - q <= 4 and all(
                    _is_cap(text, toks, k) for k in range(q, p)
                ):
                    p = q
                return (p, b) if a < b else (p, end_)
            if p == sent.first or "," not in _gap(text, toks, p):
                break
            end_ = p
    if b - a > 20:  # a walk this long crossed a clause we cannot parse; keep the words next to the cue
        a = b - 20
    return a, b


_APPOS_START = _words("who which whose the a an")


def _chunk_start(text: str, toks: Tokens, sent: Sentence, end: int) -> int:
    """First word of the punctuation-bounded chunk that ends just before word `end`."""
    p = end - 1
    while p > sent.first and not _boundary(_gap(text, toks, p)):
        p -= 1
    return max(p, sent.first)


def _fwd_source(text: str, toks: Tokens, sent: Sentence, i: int, limit: int = 10) -> tuple[int, int]:
    """Words [i, b) of the phrase after a cue, up to punctuation, a clause word or a finite reporting verb."""
    b = i
    while b < sent.last and b - i < limit and (b == i or not _FWD_BOUNDARY.search(_gap(text, toks, b))):
        w = toks.words[b]
        if b > i and (w in _CLAUSE_STOPS or (w in CUE_VERBS and w not in _NOUNLIKE | _DOC_HEADS)):
            break
        b += 1
    return i, b


def _clause_follows(text: str, toks: Tokens, sent: Sentence, k: int, strict: bool) -> bool:
    """Whether a complement follows word k: "that" (within 8 words), a quote, a colon, or the sentence end;
    unless `strict`, also a subject-like word (a pronoun, a determiner, a name)."""
    if k + 1 >= sent.last:
        return not strict
    gap = _gap(text, toks, k + 1)
    if any(c in gap for c in ':"“”«‘'):
        return True
    words = toks.words
    for j in range(k + 1, min(sent.last, k + 9)):
        if words[j] in {"that", "to"} and (j == k + 1 or words[j] == "that"):
            return True
        if j > k + 1 and _FWD_BOUNDARY.search(_gap(text, toks, j)):
            break
    if strict:
        return False
    nxt = words[k + 1]
    return nxt in _PRONOUNS | _DETERMINERS | _words("there we i") or _is_cap(text, toks, k + 1)


# --------------------------------------------------------------------------------------------- the detector


def _passive(
    text: str, toks: Tokens, sent: Sentence, i: int, previous: list[Attribution]
) -> tuple[Attribution, int] | None:
    """Passive cues: "has long been accused", "is believed to", "priests accused of", "reported by Reuters"."""
    words = toks.words
    w = words[i]
    nxt = words[i + 1] if i + 1 < sent.last else ""
    # A reporting participle with an agent: "reported by the German Catholic newspaper Die Tagespost".
    if nxt == "by" and w in _words("reported quoted cited confirmed revealed told announced"):
        a, b = _fwd_source(text, toks, sent, i + 2, limit=8)
        if b > a:
            kind = _resolve(classify_source(text, toks, a, b), words[a], previous)
            s, e = toks.starts[i], toks.ends[b - 1]
            return Attribution(s, e, text[s : toks.ends[i + 1]], text[toks.starts[a] : e], kind), b
    if w not in _PASSIVE_ANY | _PASSIVE_TO or i == sent.first:
        return None
    k = i - 1
    while k > sent.first and (words[k] in _words("long widely also often been being not now generally commonly")
                              or (words[k].endswith("ly") and len(words[k]) > 4)):
        k -= 1
    has_be = words[k] in _PASSIVE_BE or words[k].endswith(("'s", "'re", "'ve")) and "been" in words[k:i]
    if words[k] in {"has", "have", "had"}:
        has_be = "been" in words[k:i]
    if not has_be:
        # Reduced relative after a noun: "priests accused of abuse", "the man considered to be".
        if not ((w == "accused" and nxt == "of") or (w in _PASSIVE_TO | {"considered"} and nxt == "to")):
            return None
        if words[k] in _PRONOUNS | _FIRST_PERSON | {"has", "have", "had"} or _is_cap(text, toks, k):
            return None
        s = toks.starts[i]
        return Attribution(s, toks.ends[i], text[s : toks.ends[i]], None, UNATTRIBUTED), i + 1
    if w in _PASSIVE_TO and nxt not in {"to", "that"} and not (w in {"found", "determined"} and nxt == "that"):
        if not (w == "known" and "long" in words[k:i]):
            return None
    if w == "told" and nxt not in {"that", "by"}:
        return None
    if k > sent.first and words[k - 1] in _words("has have had will would may might"):
        k -= 1
    s = toks.starts[k]
    return Attribution(s, toks.ends[i], text[s : toks.ends[i]], None, UNATTRIBUTED), i + 1


_PASSIVE_TRIGGERS = _PASSIVE_ANY | _PASSIVE_TO | _words("quoted cited revealed announced")
_VERB_TRIGGERS = CUE_VERBS | _CALL | _words("made makes pointed points expressed")
_TRIGGERS = _PASSIVE_TRIGGERS | _VERB_TRIGGERS | _ISSUE_VERBS | _HEDGES | _CLAIM_NOUNS | {"according"}
_CAUSATIVES = _words("""lead leads led leading prompt prompts prompted prompting cause causes caused causing convince
convinces convinced persuade persuades persuaded""")


def _noun_attribution(
    text: str, toks: Tokens, sent: Sentence, i: int, previous: list[Attribution]
) -> tuple[Attribution, int] | None:
    """A claim noun that names its source ("claims by some", "reports from local officials") or an unnamed
    document before its content ("amid reports that the army ..."). Only after a preposition, a determiner or the
    sentence start, where the word cannot be a verb with a subject ("CNN reports that ...")."""
    words = toks.words
    prev = words[i - 1] if i > sent.first else ""
    nxt = words[i + 1] if i + 1 < sent.last else ""
    if prev and prev not in _NOT_AFTER | _PASSIVE_BE:
        return None
    if prev in _POSSESSIVES:
        return None  # "his claims": the owner was cited before, this is not a new source
    if nxt in {"by", "from"} and i + 2 < sent.last:
        a, b = _fwd_source(text, toks, sent, i + 2, limit=8)
        kind = classify_source(text, toks, a, b) if b > a else None
        if kind is None:
            return None  # "reports from the front": a place, not a source
        s, e = toks.starts[i], toks.ends[b - 1]
        return Attribution(s, e, text[s : toks.ends[i]], text[toks.starts[a] : e], kind), b
    if words[i] in _UNNAMED_DOC_NOUNS and nxt == "that" and i + 2 < sent.last and not _boundary(
        _gap(text, toks, i + 1)
    ):
        # A complement "that" is followed by a subject; a relative "that" by a verb ("reports that caused").
        subj = words[i + 2]
        if subj in _PRONOUNS | _DETERMINERS | {"there"} or _is_cap(text, toks, i + 2):
            s, e = toks.starts[i], toks.ends[i]
            return Attribution(s, e, text[s:e], text[s:e], ANONYMOUS), i + 1
    return None


def _quote_within(text: str, toks: Tokens, sent: Sentence, i: int, n: int) -> bool:
    """Whether an opening quote mark sits between word i and word i+n (same sentence)."""
    return any(any(q in _gap(text, toks, j) for q in "\"“«‘") for j in range(i + 1, min(sent.last, i + n + 1)))


def _sentence_attributions(
    text: str, toks: Tokens, sent: Sentence, previous: list[Attribution]
) -> list[Attribution]:
    out: list[Attribution] = []
    used_until = sent.first
    i = sent.first
    words = toks.words
    while i < sent.last:
        w = words[i]
        if w not in _TRIGGERS:
            i += 1
            continue
        found: tuple[Attribution, int] | None = None
        if w == "according" and i + 1 < sent.last and words[i + 1] == "to":
            a, b = _fwd_source(text, toks, sent, i + 2)
            if b > a:
                kind = _resolve(classify_source(text, toks, a, b), words[a], previous + out)
                s, e = toks.starts[i], toks.ends[b - 1]
                found = Attribution(s, e, text[s : toks.ends[i + 1]], text[toks.starts[a] : e], kind), b
        elif w in _HEDGES and not (w == "alleged" and i + 1 < sent.last and words[i + 1] in {"by", "that", "to"}):
            if not (w == "alleged" and i > sent.first and words[i - 1] in _PASSIVE_BE | _words("has have had")):
                found = Attribution(toks.starts[i], toks.ends[i], text[toks.starts[i] : toks.ends[i]], None,
                                    UNATTRIBUTED), i + 1
        if found is None and w in _CLAIM_NOUNS:
            found = _noun_attribution(text, toks, sent, i, previous + out)
        if found is None and w in _PASSIVE_TRIGGERS:
            found = _passive(text, toks, sent, i, previous + out)
        if found is None and w in _ISSUE_VERBS and i + 2 < sent.last and words[i + 1] in _DETERMINERS and (
            words[i + 2] in _DOCUMENTS or (i + 3 < sent.last and words[i + 3] in _DOCUMENTS)
        ):
            found = _verb_attribution(text, toks, sent, i, used_until, previous + out, cue_len=3)
        elif found is None and w in _VERB_TRIGGERS:
            found = _verb_attribution(text, toks, sent, i, used_until, previous + out)
        if found is not None:
            out.append(found[0])
            i = used_until = found[1]
        else:
            i += 1
    return out


def _verb_attribution(
    text: str, toks: Tokens, sent: Sentence, i: int, used_until: int, previous: list[Attribution], cue_len: int = 1
) -> tuple[Attribution, int] | None:
    words = toks.words
    w = words[i]
    prev = words[i - 1] if i > sent.first else ""
    nxt = words[i + 1] if i + 1 < sent.last else ""
    # "leads many to believe", "prompting analysts to speculate": the causative's object holds the belief.
    if prev == "to" and w in _TO_COGNITION and i - 3 >= max(sent.first, used_until) and (
        words[i - 3] in _CAUSATIVES and (words[i - 2] in _QUANT_SUBJECTS or words[i - 2] in ANON_PLURAL)
    ):
        s = toks.starts[i - 2]
        return Attribution(s, toks.ends[i], text[toks.starts[i] : toks.ends[i]], text[s : toks.ends[i - 2]],
                           ANONYMOUS), i + 1
    # "many believe", "some say": a quantifier standing alone as the subject at a clause start, not "many
    # reported cases" (a past form must take a complement).
    quant_subject = prev in _QUANT_SUBJECTS and w not in _NOUNLIKE and (
        i - 1 == sent.first or words[i - 2] in _CLAUSE_STOPS or _boundary(_gap(text, toks, i - 1))
    ) and (not w.endswith("ed") or _clause_follows(text, toks, sent, i, strict=False))
    if (prev in _NOT_AFTER or prev in _PASSIVE_BE) and not quant_subject:
        return None  # infinitive, noun or passive: "refused to say", "the reports", "are urged"
    # Multi-word cues: "made it clear", "pointed out", "expressed outrage", "was quoted as saying".
    if w in {"made", "makes"}:
        if words[i + 1 : i + 3] == ["it", "clear"]:
            cue_len = 3
        elif nxt == "clear":
            cue_len = 2
        else:
            return None
    elif w in {"pointed", "points"}:
        if nxt != "out":
            return None
        cue_len = 2
    elif w in _CALL:
        # "one source calling the man a “mystery”": naming someone something, with the name in quotes.
        if nxt in _CALL_PARTICLES or not _quote_within(text, toks, sent, i, 6):
            return None
    elif w == "expressed":
        if nxt not in {"outrage", "concern", "doubt", "doubts", "hope", "fear", "fears"}:
            return None
        cue_len = 2
    if w in _NOUNLIKE and not (_is_cap(text, toks, i - 1) if i > sent.first else False) and (
        prev not in ANON_HEADS | _PRONOUNS
    ):
        return None
    # The cue group: auxiliaries and adverbs before the verb, a "told reporters"-style object after it.
    c = i
    while c > max(sent.first, used_until) and words[c - 1] in _CUE_AUX | _NEGATION and (
        not _boundary(_gap(text, toks, c))
    ):
        c -= 1
    if any(x in _NEGATION for x in words[c:i]):
        return None  # "did not confirm", "doesn't acknowledge": a non-claim
    cue_end = i + cue_len
    if cue_len > 1 and w in _ISSUE_VERBS and words[cue_end - 1] not in _DOCUMENTS:
        cue_end += 1
    if w in _TELL:
        obj = cue_end
        while obj < sent.last and obj - i <= 5 and (
            _is_cap(text, toks, obj) or words[obj] in _words("reporters journalists the media press local")
        ) and (obj == cue_end or not _boundary(_gap(text, toks, obj))):
            obj += 1
        if obj == cue_end and not _clause_follows(text, toks, sent, i, strict=True) and (
            not (cue_end < sent.last and words[cue_end] in _words("him her us me them"))
        ):
            return None  # "time will tell"
        cue_end = obj
    strict = w in _NEEDS_THAT
    a, b = _back_source(text, toks, sent, c) if c > used_until or c == sent.first else (c, c)
    a = max(a, used_until)
    ca, cb = a, b  # the words that decide the kind; a restrictive relative clause is left out of them
    # "investigators who believe", "people who are older say": the source is the noun phrase before "who".
    who = c - 1 if b <= a else a - 1
    # Only when "who" is the relative clause's subject: in "a bishop who victims have accused" it is the object.
    if who > max(sent.first, used_until) and words[who] == "who" and not _boundary(_gap(text, toks, who)) and (
        words[who + 1] not in ANON_HEADS | _PRONOUNS | _DETERMINERS and not _is_cap(text, toks, who + 1)
    ):
        ra, rb = _back_source(text, toks, sent, who)
        ra = max(ra, used_until)
        if rb > ra and classify_source(text, toks, ra, rb) is not None:
            b = rb if b <= a else b
            a, ca, cb = ra, ra, rb
    if b > a and words[a] == "with" and w.endswith("ing"):
        a = ca = a + 1  # "with one source calling ...": an absolute clause, the source follows "with"
    if b <= a:
        # Inverted: '“...,” said the official' / 'said John Smith, a spokesman'
        if w in _INVERTIBLE and (c == sent.first or _AFTER_QUOTE.search(_gap(text, toks, c))):
            fa, fb = _fwd_source(text, toks, sent, cue_end, limit=8)
            if fb > fa and (_is_cap(text, toks, fa) or words[fa] in _DETERMINERS | _PRONOUNS | _PERSON_HEADS):
                kind = _resolve(classify_source(text, toks, fa, fb), words[fa], previous)
                s, e = toks.starts[c], toks.ends[fb - 1]
                return Attribution(s, e, text[s : toks.ends[cue_end - 1]], text[toks.starts[fa] : e], kind), fb
        return None
    subject = words[ca:cb]
    if words[a] in _PREPOSITIONS or subject[-1] in _FIRST_PERSON or words[a] in _words("no nobody none"):
        return None  # "With no sunspots reported", "I believe", "No sane person is saying"
    if w in _ONLY_AFTER_QUOTE and not (cue_end >= sent.last or _boundary(_gap(text, toks, cue_end))):
        return None
    if w in _NEEDS_CLAUSE | _NEEDS_THAT and cue_len == 1 and not _clause_follows(text, toks, sent, i, strict) and (
        not (w in _DESCRIBE and "as" in words[i + 1 : min(sent.last, i + 9)])  # "described him as a nomad"
    ):
        return None
    src_kind = classify_source(text, toks, ca, cb)
    head = _head_word(subject)
    if src_kind is None and not (len(subject) == 1 and subject[0] in _PRONOUNS) and head not in _PERSON_HEADS:
        return None  # a subject that cannot speak: "the war says little", "the symptoms indicate"
    if w in _THINK and src_kind != ANONYMOUS:
        return None  # "Saris thinks she can ...": the writer's reading of a mind, not a sourced claim
    if w in _COGNITION and src_kind is None and any(p.start >= sent.start for p in previous):
        return None  # "Flake said that he believed ...": part of the claim already attributed
    kind = _resolve(src_kind, subject[0], previous)
    s = toks.starts[a]
    return (
        Attribution(s, toks.ends[cue_end - 1], text[toks.starts[c] : toks.ends[cue_end - 1]],
                    text[s : toks.ends[b - 1]], kind),
        cue_end,
    )


_QUOTE_OPEN = re.compile(r'(?:^|[:,]\s*)["“«]')


def _quoted_sentences(text: str, sents: list[Sentence]) -> list[bool]:
    """Which sentences lie inside a quotation that spans sentences (their source is the quote's speaker).

    Only a quote that opens at a sentence start or after a colon/comma and stays open counts: mid-sentence scare
    quotes ("“Daesh “fighters") are unbalanced too often to track.
    """
    inside = [False] * len(sents)
    open_for = 0
    for n, s in enumerate(sents):
        seg = text[s.start : s.end]
        if open_for:
            inside[n] = True
            open_for = 0 if re.search(r'["”»]', seg) else open_for - 1
        else:
            m = _QUOTE_OPEN.search(seg)
            if re.fullmatch(r'["“«].*["”»][.,!?]?', seg, flags=re.S):
                inside[n] = True
            elif m and not re.search(r'["”»]', seg[m.end() :]):
                open_for = 6  # a quotation rarely runs longer; stop before it swallows the article
        nxt = sents[n + 1].start if n + 1 < len(sents) else len(text)
        if text.count("\n", s.end, nxt) >= 2:
            open_for = 0
    return inside


Analysed = tuple[list["Sentence"], list[list[Attribution]], list[bool], Tokens]


def analyse(text: str, toks: Tokens | None = None) -> Analysed:
    """Sentences, the explicit attributions in each, which sentences sit inside multi-sentence quotes, and the
    tokens (`toks`: `tokenize(text)`, when the caller has it already). `find_attributions` and
    `sourcing.sourcing_profile` both start from this; one analysis can serve both (`analysed=`)."""
    toks = toks if toks is not None else tokenize(text)
    sents = split_sentences(text, toks)
    per: list[list[Attribution]] = []
    flat: list[Attribution] = []
    for s in sents:
        atts = [] if is_heading(text, s) else _sentence_attributions(text, toks, s, flat)
        per.append(atts)
        flat.extend(atts)
    return sents, per, _quoted_sentences(text, sents), toks


def find_attributions(text: str, unsourced: bool = True, *, analysed: Analysed | None = None) -> list[Attribution]:
    """All attributions in `text`, sorted by start offset.

    Explicit ones carry a cue. With `unsourced`, each factual sentence (see `is_factual`) that has no attribution
    and is not inside a quotation adds an ``unattributed`` Attribution, cue and source None, spanning the sentence.
    """
    sents, per, quoted, toks = analysed if analysed is not None else analyse(text)
    out: list[Attribution] = []
    for n, (s, atts) in enumerate(zip(sents, per, strict=True)):
        out.extend(atts)
        if unsourced and not atts and not quoted[n] and is_factual(text, toks, s):
            out.append(Attribution(s.start, s.end, None, None, UNATTRIBUTED))
    out.sort(key=lambda a: (a.start, a.end))
    return out
